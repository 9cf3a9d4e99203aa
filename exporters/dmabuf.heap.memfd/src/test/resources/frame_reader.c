/*
 * A native process that receives a dma-buf's OS fd over a Unix socket (SCM_RIGHTS), maps it and prints the CRC-32
 * of its bytes; then, to prove it read the very pages rather than a copy, writes a marker into the last 4 bytes,
 * which the JVM must see in its own view of the buffer.
 *
 * usage: frame_reader <socket path>     prints "size=<n> crc=<8 hex digits>"
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static uint32_t crc32(const unsigned char *p, size_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s <socket path>\n", argv[0]); return 2; }
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    if (s < 0 || connect(s, (struct sockaddr *) &addr, sizeof addr) != 0) { perror("connect"); return 3; }
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                          .msg_controllen = sizeof control };
    if (recvmsg(s, &msg, 0) != 1) { perror("recvmsg"); return 4; }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        fprintf(stderr, "no fd in the message\n");
        return 5;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return 6; }
    unsigned char *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 7; }
    printf("size=%lld crc=%08x\n", (long long) st.st_size, crc32(p, st.st_size));
    memcpy(p + st.st_size - 4, "SEEN", 4);
    munmap(p, st.st_size);
    close(fd);
    close(s);
    return 0;
}
