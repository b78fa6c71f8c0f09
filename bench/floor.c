/* The kernel's floor under allocsel's quick path: what reading the same
 * inputs costs with nothing else done. Mode 0 opens, fstats, reads up to
 * 64 KiB and closes each file (what the quick path does per input); mode 1
 * leaves out the fstat; mode 2 only stats (what a cache of every input's
 * facts would do). Build and run:
 *   cc -O2 -o /tmp/floor bench/floor.c
 *   perf stat -r 9 /tmp/floor 0 FILES...
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  static unsigned char buf[64 * 1024];
  if (argc < 2)
    return 2;
  int mode = atoi(argv[1]);
  long long total = 0;
  for (int i = 2; i < argc; i++) {
    struct stat st;
    if (mode == 2) {
      if (stat(argv[i], &st) == 0)
        total += st.st_size;
      continue;
    }
    int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    if (mode == 0 && fstat(fd, &st) != 0)
      st.st_size = 0;
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    if (n > 0)
      total += n;
    close(fd);
  }
  printf("%lld bytes\n", total);
  return 0;
}
