package dmabuf.importer.encoder;

import dmabuf.api.Device;
import dmabuf.api.DmaBufRegistry;
import dmabuf.importer.encoder.api.Encoder;

/** Test access to the encoder importer without a framework. */
public final class TestEncoders {
    private TestEncoders() {
    }

    public static Encoder create(DmaBufRegistry registry) {
        return new DeflateEncoder(registry, Device.of("enc0"), 1);
    }
}
