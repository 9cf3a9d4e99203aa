# Sourced by ./run, ./test and .ci/run: points JAVA_HOME at a JDK 25 and sets the Maven JVM flags.
# These machines have Debian's JDK 17 as the default `java` and Temurin 25 beside it; the build needs 25.
dmabuf_find_jdk25() {
    local candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk* /usr/lib/jvm/*25*; do
        if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] &&
            "$candidate/bin/java" -version 2>&1 | head -n 1 | grep -Eq 'version "25([."]|$)'; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! DMABUF_JDK=$(dmabuf_find_jdk25); then
    echo "dmabuf-osgi needs a JDK 25 (the Foreign Function & Memory API and release-25 class files)." >&2
    echo "None found in JAVA_HOME or /usr/lib/jvm. Install Temurin 25 and/or set JAVA_HOME to it." >&2
    exit 1
fi
export JAVA_HOME="$DMABUF_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# JDK 24+ warns about sun.misc.Unsafe in Maven's own libraries; keep the build output clean.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
