// The Node.js payload of the example golden images: prints who it runs as, as images/hello/hello.c does.
"use strict";

if (process.argv[2] === "--health") {
  process.exit(0);
}
console.log(`hello from a golden image: uid=${process.getuid()} gid=${process.getgid()}`);
