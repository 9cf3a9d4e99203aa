package dmabuf.demo;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.List;
import java.util.Properties;

import org.osgi.annotation.bundle.Header;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Applies the embedded default configurations ({@code defaults/*.cfg} in this bundle) through ConfigAdmin.
 * <p>
 * A bundle activator rather than a component on purpose: the launcher starts this bundle at a start level below the
 * drivers', and only an activator is guaranteed to have finished before the framework moves on to the next level,
 * so every driver's first activation already sees its configuration (no activate-with-defaults-then-modify churn).
 * <p>
 * File names follow FileInstall's: {@code PID.cfg} is the configuration of PID, {@code FACTORY-NAME.cfg} the named
 * factory configuration NAME of FACTORY. A file of the same name in the {@code load/} folder (FileInstall's, created
 * here if missing) replaces the embedded one, and is applied here too, for the same reason: FileInstall scans on its
 * own thread, later. It then finds the configuration already holding the file's values and leaves it; later edits
 * of the file are FileInstall's to apply.
 */
@Header(name = Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class ConfigSeeder implements BundleActivator {
    static final String LOAD_DIR_PROPERTY = "felix.fileinstall.dir";

    @Override
    public void start(BundleContext context) throws IOException {
        Console console = new Console(System.out, System.err);

        String dir = context.getProperty(LOAD_DIR_PROPERTY);
        Path load = Path.of(dir == null ? "load" : dir);
        Files.createDirectories(load);

        ServiceReference<ConfigurationAdmin> ref = context.getServiceReference(ConfigurationAdmin.class);
        if (ref == null) {
            // ConfigAdmin starts at a lower start level; without it nothing is configured and the demo will say
            // which driver waits for what.
            console.problem("no ConfigurationAdmin service: the embedded default configurations were not applied");
            return;
        }
        ConfigurationAdmin cm = context.getService(ref);
        try {
            List<String> overridden = new ArrayList<>();
            Enumeration<URL> entries = context.getBundle().findEntries("defaults", "*.cfg", false);
            for (URL entry : entries == null ? Collections.<URL>emptyList() : Collections.list(entries)) {
                String file = entry.getPath().substring(entry.getPath().lastIndexOf('/') + 1);
                Path replacement = load.resolve(file);
                if (Files.isRegularFile(replacement)) {
                    overridden.add(replacement.toString());
                    entry = replacement.toUri().toURL();
                }
                apply(cm, file, read(entry));
            }
            if (!overridden.isEmpty()) {
                console.info("configuration from " + String.join(", ", overridden) + " instead of the embedded"
                        + " default");
            }
        } finally {
            context.ungetService(ref);
        }
    }

    @Override
    public void stop(BundleContext context) {
        // The configurations stay: they belong to ConfigAdmin (and the framework storage is deleted at exit).
    }

    /** Writes one configuration (unless it already holds exactly these values). */
    static void apply(ConfigurationAdmin cm, String file, Dictionary<String, Object> properties) throws IOException {
        String pid = file.substring(0, file.length() - ".cfg".length());
        int dash = pid.indexOf('-');
        // "?" binds the configuration to whichever bundle uses it first, as FileInstall does.
        Configuration configuration = dash < 0 ? cm.getConfiguration(pid, "?")
                : cm.getFactoryConfiguration(pid.substring(0, dash), pid.substring(dash + 1), "?");
        configuration.updateIfDifferent(properties);
    }

    static Dictionary<String, Object> read(URL entry) throws IOException {
        Properties properties = new Properties();
        try (InputStream in = entry.openStream()) {
            properties.load(in);
        }
        Dictionary<String, Object> dictionary = new Hashtable<>();
        // Strings as FileInstall reads a plain .cfg, so it finds the same values and leaves them.
        properties.stringPropertyNames().forEach(k -> dictionary.put(k, properties.getProperty(k)));
        return dictionary;
    }
}
