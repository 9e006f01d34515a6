package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/phigate} finds a JDK 25 wherever one usually is: JAVA_HOME, the java on PATH, then the usual install
 * folders, newest first, skipping older JDKs and runtimes without javac; and says where it looked when it finds
 * none. Fake JDKs stand in (a java script that prints a version).
 */
class BinPhigateFindsJavaTest {
    @TempDir
    Path dir;

    private Path jdk(String name, String version, boolean javac) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("jvm").resolve(name).resolve("bin"));
        script(bin.resolve("java"), "echo 'openjdk version \"" + version + "\" 2025-09-16' >&2");
        if (javac) {
            script(bin.resolve("javac"), "exit 0");
        }
        return bin.getParent();
    }

    private static void script(Path file, String body) throws Exception {
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private String[] find(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("bin/phigate").toAbsolutePath().toString());
        pb.environment().clear();
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("PHIGATE_FIND_JAVA_ONLY", "1");
        pb.environment().put("PHIGATE_JVM_DIRS", dir.resolve("jvm") + "/*");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return new String[]{Integer.toString(p.waitFor()), out, err};
    }

    @Test
    void takesTheJavaOnPathWhenItIsAJdk25() throws Exception {
        Path onPath = jdk("my-jdk-25", "25.0.1", true);
        jdk("zzz-jdk-26", "26", true);
        String[] r = find(Map.of("PATH", onPath.resolve("bin") + ":/usr/bin:/bin"));
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        assertThat(r[1]).isEqualTo(onPath.toRealPath().toString());
    }

    @Test
    void looksInTheUsualFoldersNewestFirstSkippingOldJdksAndRuntimes() throws Exception {
        Path old = jdk("java-17-openjdk", "17.0.9", true);
        jdk("jre-25", "25", false);
        Path good = jdk("temurin-25.0.2-jdk", "25.0.2", true);
        jdk("temurin-25.0.1-jdk", "25.0.1", true);
        String[] r = find(Map.of("PATH", old.resolve("bin") + ":/usr/bin:/bin", "JAVA_HOME", old.toString()));
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        assertThat(r[1]).isEqualTo(good.toString());
    }

    @Test
    void saysWhereItLookedWhenThereIsNone() throws Exception {
        Path old = jdk("java-21", "21.0.4", true);
        String[] r = find(Map.of("PATH", old.resolve("bin") + ":/usr/bin:/bin"));
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[2]).contains("needs a JDK 25").contains("JAVA_HOME (unset)").contains(old.resolve("bin/java")
                .toString());
    }
}
