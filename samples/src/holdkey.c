/*
 * holdkey.c - dumpguard test helper.
 *
 * Usage: holdkey FILE [FILE...]
 *
 * Reads each FILE in full with read(2) into its own malloc(3)'d heap buffer
 * (no mmap, no stdio for the file data), writes "ready\n" to stdout, then
 * sleeps until killed. Used by samples/make-samples.sh to produce small,
 * real core dumps that contain TEST key material at known offsets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path)
{
    const char *err = strerror(errno);
    (void)!write(2, "holdkey: ", 9);
    (void)!write(2, what, strlen(what));
    (void)!write(2, ": ", 2);
    (void)!write(2, path, strlen(path));
    (void)!write(2, ": ", 2);
    (void)!write(2, err, strlen(err));
    (void)!write(2, "\n", 1);
    exit(1);
}

static unsigned char *read_all(const char *path, size_t *len_out)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("open", path);

    struct stat st;
    if (fstat(fd, &st) != 0)
        die("fstat", path);

    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096;
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        die("malloc", path);

    size_t len = 0;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            unsigned char *nb = realloc(buf, cap);
            if (nb == NULL)
                die("realloc", path);
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("read", path);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    *len_out = len;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        static const char usage[] = "usage: holdkey FILE [FILE...]\n";
        (void)!write(2, usage, sizeof usage - 1);
        return 2;
    }

    /* Keep the pointers reachable so the buffers are obviously live heap data. */
    unsigned char **bufs = calloc((size_t)argc, sizeof *bufs);
    size_t *lens = calloc((size_t)argc, sizeof *lens);
    if (bufs == NULL || lens == NULL)
        die("calloc", "(table)");

    for (int i = 1; i < argc; i++)
        bufs[i] = read_all(argv[i], &lens[i]);

    /* write(2) is unbuffered, so "ready" is flushed immediately. */
    static const char ready[] = "ready\n";
    if (write(1, ready, sizeof ready - 1) != (ssize_t)(sizeof ready - 1))
        return 1;

    for (;;)
        pause();

    /* not reached */
    return 0;
}
