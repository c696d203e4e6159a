/* The payload of the example golden images: prints who it runs as, so tests can check it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--health") == 0) {
        return 0;
    }
    printf("hello from a golden image: uid=%d gid=%d\n", (int)getuid(), (int)getgid());
    return 0;
}
