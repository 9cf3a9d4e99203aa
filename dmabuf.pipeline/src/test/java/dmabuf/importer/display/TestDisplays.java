package dmabuf.importer.display;

import dmabuf.api.Device;
import dmabuf.api.DmaBufRegistry;
import dmabuf.importer.display.api.Display;

/** Test access to the display importer without a framework. */
public final class TestDisplays {
    private TestDisplays() {
    }

    /** A crtc reaching {@code maskBits} address bits, contiguous memory only. */
    public static Display create(DmaBufRegistry registry, int maskBits) {
        return new CrtcDisplay(registry, Device.of("crtc0").withDmaMask(CrtcDisplay.mask(maskBits))
                .withContiguous(true), 2000);
    }

    public static void deactivate(Display display) {
        ((CrtcDisplay) display).deactivate();
    }
}
