package dmabuf.core.attach;

import dmabuf.api.Device;
import dmabuf.api.SgTable;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;

/**
 * Checks a table an exporter mapped against the buffer and the attached device, so an importer never receives a
 * table that does not cover the buffer or that its device cannot use.
 */
final class SgTableCheck {
    private SgTableCheck() {
    }

    /** What is wrong with the table, or null when it is usable. */
    static String violation(SgTable table, Buffer buffer, Device device) {
        long total = table.totalLength();
        if (total < buffer.size() || total > Errors.pageAlign(buffer.size())) {
            return "it covers " + total + " bytes, the buffer has " + buffer.size();
        }
        if (table.nents() > device.maxSegmentCount()) {
            return "it has " + table.nents() + " segments, the device takes at most " + device.maxSegmentCount();
        }
        if (device.contiguous() && !table.isContiguous()) {
            return "it is scattered over " + table.nents() + " segments, the device needs contiguous memory";
        }
        for (SgTable.Entry e : table.entries()) {
            if (e.length() > device.maxSegmentSize()) {
                return "a segment of " + e.length() + " bytes exceeds the device's maximum of "
                        + device.maxSegmentSize();
            }
            if (!device.canReach(e.dmaAddress(), e.length())) {
                return String.format("segment 0x%x+%d lies beyond the device's DMA mask 0x%x", e.dmaAddress(),
                        e.length(), device.dmaMask());
            }
        }
        return null;
    }
}
