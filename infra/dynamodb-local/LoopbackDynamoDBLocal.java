// Starts AWS's DynamoDB Local listening on 127.0.0.1 only.
//
// DynamoDBLocal.jar has no option to choose its listen address (its Jetty server binds
// every interface), and Kuota's local servers must listen on loopback only. This runs
// the jar's own server factory with the usual command-line options, sets the host on
// its connector before it starts, and never configures telemetry.
// Run (Java 11+ source launch): java -cp 'DynamoDBLocal.jar:DynamoDBLocal_lib/*'
//   -Djava.library.path=DynamoDBLocal_lib LoopbackDynamoDBLocal.java -port N -inMemory|-dbPath DIR
import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        for (Connector connector : jetty.getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on 127.0.0.1");
        proxy.join();
    }
}
