package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_void;
import static java.lang.constant.ConstantDescs.INIT_NAME;
import static java.lang.constant.ConstantDescs.MTD_void;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.FdInfo;

/**
 * The contract checked at export ({@code dma_buf_export}): mandatory ops, pin/unpin pairing, cacheSgtMapping, size,
 * flags, exporter name, initial name, ids and the size invariant. A refused export leaves nothing exported.
 */
class ExportRulesTest {

    private final CoreFixture fixture = new CoreFixture();

    /** Implements pin but not unpin. */
    static class PinOnly extends TestExporter {
        PinOnly(long size) {
            super(size);
        }

        @Override
        public void pin(DmaBufAttachment attachment) {
            called("pin");
        }
    }

    /** Implements unpin but not pin. */
    static class UnpinOnly extends TestExporter {
        UnpinOnly(long size) {
            super(size);
        }

        @Override
        public void unpin(DmaBufAttachment attachment) {
            called("unpin");
        }
    }

    /** A dynamic exporter that also asks for cached tables: not allowed. */
    static class DynamicCaching extends TestExporter.Dynamic {
        DynamicCaching(long size) {
            super(size);
        }

        @Override
        public boolean cacheSgtMapping() {
            return true;
        }
    }

    private void assertNothingExported() {
        assertTrue(fixture.core.buffers().all().isEmpty(),
                () -> "a refused export left buffers behind: " + fixture.core.buffers().all());
        assertEquals(0, fixture.core.buffers().exportedCount(), "a refused export was counted as exported");
        assertEquals(0, fixture.core.buffers().liveBytes(), "a refused export was counted as live bytes");
    }

    // ---- null info and ops --------------------------------------------------------------------------------------

    @Test
    void exportOfNullInfoIsEinval() {
        assertErrno(Errno.EINVAL, () -> fixture.exp.export(null));
        assertNothingExported();
    }

    @Test
    void exportOfNullOpsIsEinval() {
        assertErrno(Errno.EINVAL, () -> fixture.exp.export(ExportInfo.builder(null, 4096).build()));
        assertNothingExported();
    }

    // ---- a class missing a mandatory op, generated at runtime ---------------------------------------------------

    /**
     * Builds, with the java.lang.classfile API, a class {@code implements DmaBufOps} with only a public no-arg
     * constructor, {@code unmap} and {@code release} (empty bodies), and NO {@code map}. javac would refuse to compile
     * such a class; the JVM loads it (calling map would throw AbstractMethodError), as it loads an exporter compiled
     * against an older API.
     */
    static byte[] opsClassWithoutMap(ClassDesc self) {
        ClassDesc ops = ClassDesc.of(DmaBufOps.class.getName());
        ClassDesc attachment = ClassDesc.of(DmaBufAttachment.class.getName());
        ClassDesc sgTable = ClassDesc.of(dmabuf.api.SgTable.class.getName());
        ClassDesc direction = ClassDesc.of(dmabuf.api.DmaDataDirection.class.getName());
        ClassDesc dmaBuf = ClassDesc.of(DmaBuf.class.getName());
        return ClassFile.of().build(self, cb -> cb
                .withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL | ClassFile.ACC_SUPER)
                .withSuperclass(CD_Object)
                .withInterfaceSymbols(ops)
                .withMethodBody(INIT_NAME, MTD_void, ClassFile.ACC_PUBLIC, code -> code
                        .aload(0)
                        .invokespecial(CD_Object, INIT_NAME, MTD_void)
                        .return_())
                .withMethodBody("unmap", MethodTypeDesc.of(CD_void, attachment, sgTable, direction),
                        ClassFile.ACC_PUBLIC, code -> code.return_())
                .withMethodBody("release", MethodTypeDesc.of(CD_void, dmaBuf), ClassFile.ACC_PUBLIC,
                        code -> code.return_()));
    }

    @Test
    void exportOfOpsWithoutMapIsEinvalNamingMap() throws Throwable {
        byte[] bytes = opsClassWithoutMap(ClassDesc.of(ExportRulesTest.class.getPackageName() + ".NoMapOps"));
        MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClass(bytes, true);
        Class<?> type = hidden.lookupClass();

        // the generated class is what the test claims: a DmaBufOps with unmap and release only
        assertTrue(DmaBufOps.class.isAssignableFrom(type));
        assertFalse(Modifier.isAbstract(type.getModifiers()));
        Set<String> declared = Arrays.stream(type.getDeclaredMethods()).map(Method::getName)
                .collect(Collectors.toCollection(HashSet::new));
        assertEquals(Set.of("unmap", "release"), declared);
        Method map = type.getMethod("map", DmaBufAttachment.class, dmabuf.api.DmaDataDirection.class);
        assertEquals(DmaBufOps.class, map.getDeclaringClass());

        DmaBufOps ops = (DmaBufOps) hidden.findConstructor(type, MethodType.methodType(void.class)).invoke();
        assertNotNull(ops);

        DmaBufException e = assertErrno(Errno.EINVAL,
                () -> fixture.exp.export(ExportInfo.builder(ops, 4096).build()));
        assertTrue(e.getMessage().contains("op map"), () -> "the error must name the missing op 'map': "
                + e.getMessage());
        assertNothingExported();
    }

    // ---- pin/unpin pairing and cacheSgtMapping ------------------------------------------------------------------

    @Test
    void pinWithoutUnpinIsEinval() {
        PinOnly ops = new PinOnly(4096);
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, 4096));
        assertNothingExported();
        assertEquals(0, ops.count("release"), "no buffer exists, so nothing may be released");
    }

    @Test
    void unpinWithoutPinIsEinval() {
        UnpinOnly ops = new UnpinOnly(4096);
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, 4096));
        assertNothingExported();
        assertEquals(0, ops.count("release"));
    }

    @Test
    void pinAndUnpinWithCacheSgtMappingIsEinval() {
        DynamicCaching ops = new DynamicCaching(4096);
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, 4096));
        assertNothingExported();
        assertEquals(0, ops.count("release"));
    }

    @Test
    void pairedPinUnpinAndCachingAloneAreAccepted() {
        DmaBuf dynamic = fixture.export(new TestExporter.Dynamic(4096), 4096);
        DmaBuf caching = fixture.export(new TestExporter.Caching(4096), 4096);
        DmaBuf minimal = fixture.exp.export(ExportInfo.builder(new TestExporter.Minimal(), 4096).build());
        assertEquals(3, fixture.core.buffers().all().size());
        assertTrue(fixture.core.buffers().all().containsAll(java.util.List.of(dynamic, caching, minimal)));
    }

    // ---- size -----------------------------------------------------------------------------------------------

    @Test
    void sizeZeroIsEinval() {
        TestExporter ops = new TestExporter(4096);
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, 0));
        assertNothingExported();
    }

    @Test
    void negativeSizeIsEinval() {
        TestExporter ops = new TestExporter(4096);
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, -1));
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, -4096));
        assertErrno(Errno.EINVAL, () -> fixture.export(ops, Long.MIN_VALUE));
        assertNothingExported();
    }

    // ---- flags ----------------------------------------------------------------------------------------------

    @Test
    void exportFlagsOtherThanAnAccessModeAreEinval() {
        TestExporter ops = new TestExporter(4096);
        for (int flags : new int[] {DmaBufUapi.O_CLOEXEC, DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDWR, 3, 0x800}) {
            assertErrno(Errno.EINVAL, () -> fixture.exp.export(ExportInfo.builder(ops, 4096).flags(flags).build()));
        }
        assertNothingExported();
    }

    @Test
    void eachAccessModeIsAcceptedAsExportFlags() {
        for (int mode : new int[] {DmaBufUapi.O_RDONLY, DmaBufUapi.O_WRONLY, DmaBufUapi.O_RDWR}) {
            fixture.exp.export(ExportInfo.builder(new TestExporter(4096), 4096).flags(mode).build());
        }
        assertEquals(3, fixture.core.buffers().all().size());
    }

    // ---- exporter name --------------------------------------------------------------------------------------

    @Test
    void exporterNameDefaultsToBundleSymbolicName() {
        DmaBuf b = fixture.export(new TestExporter(4096), 4096);
        assertEquals("exporter.bundle", b.exporterName());

        DmaBufRegistry other = fixture.bundle(30, "other.bundle");
        DmaBuf o = other.export(ExportInfo.builder(new TestExporter(4096), 4096).build());
        assertEquals("other.bundle", o.exporterName());
    }

    @Test
    void exporterNameWithoutRegisteredServiceIsEinval() {
        TestExporter ops = new TestExporter(4096);
        assertErrno(Errno.EINVAL,
                () -> fixture.exp.export(ExportInfo.builder(ops, 4096).exporter("gpu0").build()));
        assertNothingExported();
    }

    @Test
    void exporterNameOfRegisteredServiceIsAccepted() {
        fixture.registerExporter(100, "gpu0");
        DmaBuf b = fixture.exp.export(ExportInfo.builder(new TestExporter(4096), 4096).exporter("gpu0").build());
        assertEquals("gpu0", b.exporterName());
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        FdInfo info = fixture.exp.fdinfo(fd);
        assertEquals("gpu0", info.exporterName());
    }

    @Test
    void anotherBundleCannotUseAnExporterNameItDidNotRegister() {
        fixture.registerExporter(100, "gpu0");
        TestExporter ops = new TestExporter(4096);
        assertErrno(Errno.EINVAL,
                () -> fixture.imp.export(ExportInfo.builder(ops, 4096).exporter("gpu0").build()));
        DmaBufRegistry third = fixture.bundle(30, "third.bundle");
        assertErrno(Errno.EINVAL,
                () -> third.export(ExportInfo.builder(ops, 4096).exporter("gpu0").build()));
        assertNothingExported();
    }

    // ---- initial name ---------------------------------------------------------------------------------------

    @Test
    void initialNameLongerThan31BytesIsEinval() {
        TestExporter ops = new TestExporter(4096);
        String name32 = "n".repeat(32);
        assertErrno(Errno.EINVAL, () -> fixture.exp.export(ExportInfo.builder(ops, 4096).name(name32).build()));
        assertNothingExported();

        String name31 = "n".repeat(31);
        DmaBuf b = fixture.exp.export(ExportInfo.builder(ops, 4096).name(name31).build());
        assertEquals(name31, b.name().orElseThrow());
    }

    // ---- ids and size ---------------------------------------------------------------------------------------

    @Test
    void idsAreUniqueAndIncreasingOver1000Exports() {
        TestExporter.Minimal ops = new TestExporter.Minimal();
        long previous = Long.MIN_VALUE;
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            DmaBuf b = fixture.exp.export(ExportInfo.builder(ops, 4096).build());
            assertTrue(b.id() > previous, "id " + b.id() + " after " + previous + " does not increase");
            assertTrue(seen.add(b.id()), "id " + b.id() + " reused");
            previous = b.id();
            if (i % 2 == 0) {
                fixture.exp.put(b); // released buffers must not give their ids back
            }
        }
        assertEquals(1000, seen.size());
        assertEquals(500, fixture.core.buffers().all().size());
        assertEquals(500, ops.calls.get("release").get());
    }

    @Test
    void sizeIsInvariantForTheBuffersWholeLife() {
        long size = 5000; // not page aligned: the size is what was exported, never rounded
        TestExporter ops = new TestExporter(size);
        DmaBuf b = fixture.export(ops, size);
        assertEquals(size, b.size());
        assertEquals(2, b.pageCount());

        DmaBuf imported = fixture.imp.get(b);
        assertEquals(size, imported.size());
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertEquals(size, fixture.exp.fdinfo(fd).size());
        assertEquals(size, fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_END));
        DmaBuf again = fixture.exp.get(fd);
        assertEquals(size, again.size());
        fixture.exp.setName(fd, "renamed");
        var att = fixture.imp.attach(b, dmabuf.api.Device.of("dev0"));
        assertEquals(size, att.dmaBuf().size());
        var view = fixture.imp.vmap(b);
        assertEquals(size, view.byteSize());
        assertEquals(size, b.size());
        assertEquals(size, fixture.exp.fdinfo(fd).size());

        fixture.imp.vunmap(b, view);
        fixture.imp.detach(att);
        fixture.imp.put(imported);
        fixture.exp.close(fd);
        assertEquals(0, ops.count("release"));
        fixture.exp.put(again);
        assertEquals(1, ops.count("release"));
        // after release, the accessor stays valid and unchanged
        assertEquals(size, b.size());
    }
}
