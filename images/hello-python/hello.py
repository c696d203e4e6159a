"""The Python payload of the example golden images: prints who it runs as, as images/hello/hello.c does."""
import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the uid and gid this process runs as.")
    parser.add_argument("--health", action="store_true", help="exit 0 at once (the image's health check)")
    if parser.parse_args().health:
        return
    print(f"hello from a golden image: uid={os.getuid()} gid={os.getgid()}")


if __name__ == "__main__":
    main()
