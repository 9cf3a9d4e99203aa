package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** One fence in a buffer's reservation object, as the kernel's {@code dma_resv_describe} prints it. */
public class FenceDTO extends DTO {
    /** The issuing driver. */
    public String driverName;
    /** The timeline. */
    public String timelineName;
    /** The context id. */
    public long context;
    /** The sequence number. */
    public long seqno;
    /** The usage: KERNEL, WRITE, READ or BOOKKEEP. */
    public String usage;
    /** True once signalled. */
    public boolean signaled;
    /** The error name it signalled with, or null. */
    public String error;
}
