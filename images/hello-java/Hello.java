/* The Java payload of the example golden images: prints who it runs as, as images/hello/hello.c does. */
import com.sun.security.auth.module.UnixSystem;

public final class Hello {
    private Hello() {}

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("--health")) {
            return;
        }
        // jdk.security.auth: the process's real uid and gid, as getuid()/getgid() report them.
        UnixSystem self = new UnixSystem();
        System.out.println("hello from a golden image: uid=" + self.getUid() + " gid=" + self.getGid());
    }
}
