import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A long-running pgjdbc application for the pooled-switchover test: `connections` plain JDBC
 * connections (autocommit, sslmode=disable), each inserting a row into router_probe every
 * `intervalMs`, closing its connection after any error and opening a new one, as a pool that
 * validates on error would. Runs until its stdin closes.
 *
 * Arguments: host port database user note connections intervalMs.
 * Prints JSON lines on stdout:
 *   {"kind":"error","at":<epoch ms>,"conn":<i>,"sqlstate":"57P01","message":"..."}
 *   {"kind":"writes","at":<epoch ms>,"count":<n>}   rows written since the last such line (every 100 ms)
 *   {"kind":"summary","writes":<n>,"errors":<n>,"connects":<n>}   once stdin closed, then exit 0
 * The message is the server's own text when the error came from a server (what the client was
 * told, without pgjdbc's "FATAL: " prefix and detail lines), else pgjdbc's.
 */
public final class PgjdbcWriter {
    private final String url;
    private final Properties props = new Properties();
    private final String note;
    private final long intervalMs;
    private volatile boolean running = true;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();

    PgjdbcWriter(String host, int port, String database, String user, String note, long intervalMs) {
        this.url = "jdbc:postgresql://" + host + ":" + port + "/" + database;
        props.setProperty("user", user);
        // From the environment, not argv, so it is not on every `ps` listing.
        String password = System.getenv("PGPASSWORD");
        if (password != null) props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        props.setProperty("ApplicationName", "pgjdbc-writer");
        props.setProperty("connectTimeout", "10");
        // A connection held by the router while there is no primary waits up to its hold_timeout.
        props.setProperty("loginTimeout", "90");
        this.note = note;
        this.intervalMs = intervalMs;
    }

    static synchronized void print(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private void report(int conn, boolean connecting, SQLException e) {
        errors.incrementAndGet();
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof PSQLException) {
            ServerErrorMessage server = ((PSQLException) e).getServerErrorMessage();
            if (server != null && server.getMessage() != null) message = server.getMessage();
        }
        String state = e.getSQLState();
        print("{\"kind\":\"error\",\"at\":" + System.currentTimeMillis() + ",\"conn\":" + conn
                 + ",\"connecting\":" + connecting + ",\"sqlstate\":" + (state == null ? "null" : quote(state)) + ",\"message\":" + quote(message) + "}");
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the connection is already broken; that error was reported
        }
    }

    private void work(int i) {
        Connection conn = null;
        PreparedStatement insert = null;
        while (running) {
            boolean connecting = conn == null;
            try {
                if (conn == null) {
                    conn = DriverManager.getConnection(url, props);
                    connects.incrementAndGet();
                    insert = conn.prepareStatement("INSERT INTO router_probe (note) VALUES (?)");
                    insert.setString(1, note);
                }
                connecting = false;
                insert.executeUpdate();
                writes.incrementAndGet();
            } catch (SQLException e) {
                if (!running) break;
                report(i, connecting, e);
                if (conn != null) closeQuietly(conn);
                conn = null;
                insert = null;
            }
            try {
                Thread.sleep(intervalMs);
            } catch (InterruptedException e) {
                break;
            }
        }
        if (conn != null) closeQuietly(conn);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: PgjdbcWriter host port database user note connections intervalMs");
            System.exit(2);
        }
        PgjdbcWriter writer = new PgjdbcWriter(args[0], Integer.parseInt(args[1]), args[2], args[3], args[4], Long.parseLong(args[6]));
        int n = Integer.parseInt(args[5]);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int index = i;
            Thread t = new Thread(() -> writer.work(index), "writer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Thread progress = new Thread(() -> {
            long reported = 0;
            while (writer.running) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                long now = writer.writes.get();
                if (now > reported) print("{\"kind\":\"writes\",\"at\":" + System.currentTimeMillis() + ",\"count\":" + (now - reported) + "}");
                reported = now;
            }
        }, "progress");
        progress.setDaemon(true);
        progress.start();

        // The test closes stdin to stop; until then, read and ignore.
        InputStream in = System.in;
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // nothing to read but the end
            }
        } catch (IOException ignored) {
            // a broken stdin means the test is gone: stop the same way
        }
        writer.running = false;
        // A statement under way finishes (or its connection times out); do not wait forever.
        for (Thread t : threads) t.join(10_000);
        progress.join(1_000);
        print("{\"kind\":\"summary\",\"writes\":" + writer.writes.get() + ",\"errors\":" + writer.errors.get() + ",\"connects\":" + writer.connects.get() + "}");
        System.exit(0);
    }
}
