package dmabuf.itests;

import org.junit.runner.RunWith;
import org.junit.runners.Suite;
import org.junit.runners.Suite.SuiteClasses;

/**
 * Every integration test class, in one framework (the base class's Pax Exam {@code PerSuite} strategy): the only
 * class failsafe runs by default, once on Felix and once on Equinox. {@code -Dit.test=FooIT} runs one class alone.
 * <p>
 * The order matters only at the end: the classes that change the framework the most run last, FileInstallIT
 * (replaces the V4L2 bundle by a hot-deployed one, then restores it) and CoreRestartIT (restarts the core).
 * PipelineIT runs before FileInstallIT, which uninstalls the V4L2 bundle the pipeline is wired to.
 */
@RunWith(Suite.class)
@SuiteClasses({
    FrameworkSmokeIT.class,
    CoreRegistryIT.class,
    FdIsolationIT.class,
    ExporterRevokeIT.class,
    ImporterLeakIT.class,
    StartOrderIT.class,
    ExporterUpdateIT.class,
    SyncIT.class,
    PipelineIT.class,
    PipelineUpdateIT.class,
    OsFdIT.class,
    FileInstallIT.class,
    CoreRestartIT.class,
})
public class DmaBufSuiteIT {
}
