/** Image specs the plan and executor tests share. */
import { ImageSpec } from "../../components/spec/types";

/** A static C program on distroless-static, built in a gcc builder stage: the smallest complete spec. */
export function helloSpec(name: string): ImageSpec {
  return {
    name,
    flavor: "distroless-static",
    context: "images/hello",
    builders: [{ name: "build", copy: [{ src: "hello.c", dest: "/src/hello.c" }], run: ["gcc -static -o /out/hello hello.c"] }],
    copy: [{ from: "build", src: "/out/hello", dest: "/hello" }],
    entrypoint: ["/hello"],
  };
}
