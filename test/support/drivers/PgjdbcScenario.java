import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGStatement;
import org.postgresql.copy.CopyManager;

/**
 * The driver scenario with pgjdbc 42.5 (Debian's /usr/share/java/postgresql.jar). Reads the plan
 * (see scenario-plan.ts) as JSON on stdin, runs its steps, prints one JSON result line on stdout.
 * Every step is bounded: a watchdog prints what there is and halts the JVM when a step runs past
 * the plan's step timeout. Progress lines on stderr ("step X started", "step X result {json}")
 * let the caller keep the finished steps if it has to kill the JVM. The JDK has no JSON library, hence the small reader and writer below.
 */
public final class PgjdbcScenario {
    static final class StepFailure extends Exception {
        final String sqlstate;

        StepFailure(String message, String sqlstate) {
            super(message);
            this.sqlstate = sqlstate;
        }

        StepFailure(String message) {
            this(message, null);
        }
    }

    /** The driver has no native way to do this step. */
    static final class Unsupported extends Exception {
        Unsupported(String why) {
            super(why);
        }
    }

    interface Body {
        String run() throws Exception;
    }

    private final Map<String, Object> plan;
    private final Map<String, Object> endpoint;
    private final Map<String, Object> sql;
    private final List<Object> results = new ArrayList<>();
    private Map<String, Object> server;
    private boolean printed;
    private Connection conn;
    /** Set by a step that measures a latency (cancel), picked up by the runner. */
    private Long latencyMs;

    @SuppressWarnings("unchecked")
    PgjdbcScenario(Map<String, Object> plan) {
        this.plan = plan;
        this.endpoint = (Map<String, Object>) plan.get("endpoint");
        this.sql = (Map<String, Object>) plan.get("sql");
    }

    private String sql(String name) {
        return (String) sql.get(name);
    }

    private int number(Map<String, Object> from, String name) {
        return ((Number) from.get(name)).intValue();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> object(String name) {
        return (Map<String, Object>) plan.get(name);
    }

    private boolean writable() {
        return Boolean.TRUE.equals(plan.get("writable"));
    }

    // ---- steps ----

    String connect() throws Exception {
        String sslmode = (String) endpoint.get("sslmode");
        Properties props = new Properties();
        props.setProperty("user", (String) endpoint.get("user"));
        if (endpoint.get("password") != null) props.setProperty("password", (String) endpoint.get("password"));
        props.setProperty("sslmode", sslmode);
        // The members' certificates are self-signed: encrypt, verify nothing.
        if (!sslmode.equals("disable")) props.setProperty("sslfactory", "org.postgresql.ssl.NonValidatingFactory");
        String seconds = String.valueOf(number(plan, "connectTimeoutSeconds"));
        props.setProperty("connectTimeout", seconds);
        props.setProperty("loginTimeout", seconds);
        props.setProperty("ApplicationName", (String) plan.get("applicationName"));
        if (endpoint.get("options") != null) props.setProperty("options", (String) endpoint.get("options"));
        String url = "jdbc:postgresql://" + endpoint.get("host") + ":" + number(endpoint, "port") + "/" + endpoint.get("database");
        conn = DriverManager.getConnection(url, props);
        return "pgjdbc " + conn.getMetaData().getDriverVersion() + ", sslmode " + sslmode;
    }

    String serverInfo() throws Exception {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql("serverInfo"))) {
            rs.next();
            server = new LinkedHashMap<>();
            server.put("port", rs.getInt(1));
            server.put("inRecovery", rs.getBoolean(2));
            server.put("ssl", rs.getBoolean(3));
        }
        return "port " + server.get("port") + ", in recovery " + server.get("inRecovery") + ", ssl " + server.get("ssl");
    }

    private long count(String query) throws SQLException {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String text(String query) throws SQLException {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getString(1);
        }
    }

    String prepared() throws Exception {
        int n = number(plan, "preparedExecutions");
        try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int + 1")) {
            int threshold = ps.unwrap(PGStatement.class).getPrepareThreshold();
            for (int i = 0; i < n; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) != i + 1) throw new StepFailure("execution " + i + " returned " + rs.getInt(1));
                }
            }
            boolean serverPrepare = ps.unwrap(PGStatement.class).isUseServerPrepare();
            long named = count("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1' AND NOT from_sql");
            if (!serverPrepare || named != 1) {
                throw new StepFailure("after " + n + " executions (prepareThreshold " + threshold + "): isUseServerPrepare " + serverPrepare + ", " + named + " named statements on the server");
            }
            return "PreparedStatement x " + n + ": named server statement after prepareThreshold " + threshold;
        }
    }

    String transaction() throws Exception {
        conn.setAutoCommit(false);
        try {
            if (writable()) {
                try (Statement st = conn.createStatement()) {
                    st.execute(sql("createTxTable"));
                    st.execute("INSERT INTO drivers_tx VALUES (1, 'pgjdbc')");
                }
                String inside = text("SELECT note FROM drivers_tx WHERE id = 1");
                conn.commit();
                String after = text("SELECT note FROM drivers_tx WHERE id = 1");
                if (!"pgjdbc".equals(inside) || !"pgjdbc".equals(after)) throw new StepFailure("read back " + inside + " / " + after);
                return "setAutoCommit(false); CREATE TEMP TABLE; INSERT; SELECT; commit(); row read back after commit";
            }
            // pgjdbc's default readOnlyMode=transaction turns this into BEGIN READ ONLY.
            conn.setReadOnly(true);
            String readOnly = text("SHOW transaction_read_only");
            long relations = count("SELECT count(*) FROM pg_catalog.pg_class");
            conn.commit();
            if (!"on".equals(readOnly) || relations <= 0) throw new StepFailure("read-only transaction: transaction_read_only " + readOnly + ", " + relations + " relations");
            return "setReadOnly(true), setAutoCommit(false): BEGIN READ ONLY; SHOW; SELECT; commit()";
        } finally {
            // Back to autocommit for the next steps; on a broken connection, keep the first error.
            try {
                conn.rollback();
                conn.setReadOnly(false);
                conn.setAutoCommit(true);
            } catch (SQLException e) {
                System.err.println("could not restore autocommit: " + e.getMessage());
            }
        }
    }

    String cancel() throws Exception {
        Map<String, Object> cancel = object("cancel");
        long[] sentAt = {0};
        try (Statement st = conn.createStatement()) {
            Thread canceller = new Thread(() -> {
                try {
                    Thread.sleep(number(cancel, "afterMs"));
                    sentAt[0] = System.nanoTime();
                    st.cancel();
                } catch (Exception e) {
                    System.err.println("Statement.cancel() failed: " + e);
                }
            });
            canceller.setDaemon(true);
            canceller.start();
            try {
                st.executeQuery(sql("sleep"));
                throw new StepFailure("pg_sleep completed: the cancel did not arrive");
            } catch (SQLException e) {
                long ms = sentAt[0] == 0 ? -1 : (System.nanoTime() - sentAt[0]) / 1_000_000;
                if (!"57014".equals(e.getSQLState()) || !String.valueOf(e.getMessage()).contains("user request")) throw e;
                if (ms > number(cancel, "deadlineMs")) throw new StepFailure("cancelled, but only " + ms + " ms after Statement.cancel()", "57014");
                // See scenario-plan.ts: a late second SIGINT must find the session idle.
                Thread.sleep(number(cancel, "settleMs"));
                latencyMs = ms;
                return "Statement.cancel(); 57014 after " + ms + " ms";
            }
        }
    }

    String bigResult() throws Exception {
        Map<String, Object> want = object("bigResult");
        long rows = 0;
        long bytes = 0;
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql("bigResult"))) {
            while (rs.next()) {
                rows++;
                bytes += rs.getString(1).length();
            }
        }
        if (rows != number(want, "rows") || bytes != (long) number(want, "rows") * number(want, "width")) {
            throw new StepFailure("read " + rows + " rows, " + bytes + " bytes");
        }
        return rows + " rows, " + bytes + " bytes";
    }

    String copy() throws Exception {
        int n = number(plan, "copyRows");
        CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
        StringWriter out = new StringWriter();
        long sent = copy.copyOut(sql("copyOut"), out);
        String[] lines = out.toString().split("\n");
        if (sent != n || lines.length != n || !lines[n - 1].equals(n + "\tnote-" + n)) {
            throw new StepFailure("COPY TO STDOUT gave " + sent + " rows, " + lines.length + " lines");
        }
        if (!writable()) return "CopyManager.copyOut: " + n + " rows";
        try (Statement st = conn.createStatement()) {
            st.execute(sql("createCopyTable"));
        }
        StringBuilder data = new StringBuilder();
        for (int i = 1; i <= n; i++) data.append(i).append("\tnote-").append(i).append('\n');
        long loaded = copy.copyIn(sql("copyIn"), new StringReader(data.toString()));
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql("copyInCheck"))) {
            rs.next();
            if (loaded != n || rs.getLong(1) != n || rs.getLong(2) != (long) n * (n + 1) / 2) {
                throw new StepFailure("after COPY FROM STDIN: " + rs.getLong(1) + " rows, sum " + rs.getLong(2));
            }
        }
        return "CopyManager.copyOut: " + n + " rows; copyIn: " + n + " rows";
    }

    // ---- the runner ----

    private synchronized void emit(List<Object> steps) {
        if (printed) return;
        printed = true;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("driver", "pgjdbc");
        out.put("steps", steps);
        if (server != null) out.put("server", server);
        System.out.println(Json.write(out));
        System.out.flush();
    }

    private static Map<String, Object> result(String step, boolean ok, long ms) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("step", step);
        r.put("ok", ok);
        r.put("ms", ms);
        return r;
    }

    private static List<Object> notRun(List<Object> steps, String reason) {
        List<Object> out = new ArrayList<>();
        for (Object s : steps) {
            Map<String, Object> r = result((String) s, false, 0);
            r.put("error", "not run: " + reason);
            out.add(r);
        }
        return out;
    }

    private Body body(String step) {
        switch (step) {
            case "connect": return this::connect;
            case "server-info": return this::serverInfo;
            case "prepared": return this::prepared;
            case "transaction": return this::transaction;
            case "cancel": return this::cancel;
            case "big-result": return this::bigResult;
            case "copy": return this::copy;
            default: return () -> { throw new StepFailure("unknown step " + step); };
        }
    }

    @SuppressWarnings("unchecked")
    void run() {
        List<Object> steps = (List<Object>) plan.get("steps");
        long timeoutMs = number(plan, "stepTimeoutMs");
        for (int i = 0; i < steps.size(); i++) {
            String step = (String) steps.get(i);
            List<Object> rest = steps.subList(i + 1, steps.size());
            long started = System.nanoTime();
            System.err.println("step " + step + " started");
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(timeoutMs);
                } catch (InterruptedException e) {
                    return;
                }
                Map<String, Object> failed = result(step, false, (System.nanoTime() - started) / 1_000_000);
                failed.put("error", "no answer within " + timeoutMs + " ms");
                List<Object> all = new ArrayList<>(results);
                all.add(failed);
                all.addAll(notRun(rest, step + " hung"));
                emit(all);
                Runtime.getRuntime().halt(0);
            });
            watchdog.setDaemon(true);
            watchdog.start();
            Map<String, Object> r;
            try {
                latencyMs = null;
                String detail = body(step).run();
                r = result(step, true, (System.nanoTime() - started) / 1_000_000);
                if (latencyMs != null) r.put("latencyMs", latencyMs);
                r.put("detail", detail);
            } catch (Unsupported e) {
                r = result(step, false, 0);
                r.put("unsupported", e.getMessage());
            } catch (Exception e) {
                r = result(step, false, (System.nanoTime() - started) / 1_000_000);
                r.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
                String sqlstate = e instanceof StepFailure ? ((StepFailure) e).sqlstate : e instanceof SQLException ? ((SQLException) e).getSQLState() : null;
                if (sqlstate != null) r.put("sqlstate", sqlstate);
            } finally {
                watchdog.interrupt();
            }
            results.add(r);
            System.err.println("step " + step + " result " + Json.write(r));
            if (step.equals("connect") && !Boolean.TRUE.equals(r.get("ok"))) {
                List<Object> all = new ArrayList<>(results);
                all.addAll(notRun(rest, "connect failed"));
                emit(all);
                return;
            }
        }
        emit(results);
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        InputStream in = System.in;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        Map<String, Object> plan = (Map<String, Object>) Json.read(buffer.toString(StandardCharsets.UTF_8));
        PgjdbcScenario scenario = new PgjdbcScenario(plan);
        scenario.run();
        if (scenario.conn != null) {
            try {
                scenario.conn.close();
            } catch (SQLException e) {
                // the result is out; a failing close changes nothing
            }
        }
        System.exit(0);
    }

    /** Just enough JSON for the plan in and the result out. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static Object read(String text) {
            Json p = new Json(text);
            Object v = p.value();
            p.space();
            if (p.i != p.s.length()) throw new IllegalArgumentException("trailing JSON at " + p.i);
            return v;
        }

        private void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private char next() {
            space();
            if (i >= s.length()) throw new IllegalArgumentException("JSON ends early");
            return s.charAt(i);
        }

        private void expect(char c) {
            if (next() != c) throw new IllegalArgumentException("expected '" + c + "' at " + i);
            i++;
        }

        private Object value() {
            char c = next();
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                if (next() == '}') { i++; return m; }
                do {
                    String key = string();
                    expect(':');
                    m.put(key, value());
                } while (comma('}'));
                return m;
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                if (next() == ']') { i++; return l; }
                do l.add(value()); while (comma(']'));
                return l;
            }
            if (c == '"') return string();
            for (String word : new String[] {"true", "false", "null"}) {
                if (s.startsWith(word, i)) {
                    i += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word.equals("true"));
                }
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String num = s.substring(start, i);
            if (num.isEmpty()) throw new IllegalArgumentException("unexpected '" + c + "' at " + start);
            return num.matches("-?\\d+") ? (Object) Long.valueOf(num) : (Object) Double.valueOf(num);
        }

        private boolean comma(char close) {
            char c = next();
            i++;
            if (c == ',') return true;
            if (c == close) return false;
            throw new IllegalArgumentException("expected ',' or '" + close + "' at " + (i - 1));
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: b.append(e);
                }
            }
        }

        static String write(Object v) {
            if (v == null) return "null";
            if (v instanceof Boolean || v instanceof Number) return v.toString();
            if (v instanceof Map) {
                StringBuilder b = new StringBuilder("{");
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (b.length() > 1) b.append(',');
                    b.append(write(String.valueOf(e.getKey()))).append(':').append(write(e.getValue()));
                }
                return b.append('}').toString();
            }
            if (v instanceof List) {
                StringBuilder b = new StringBuilder("[");
                for (Object o : (List<?>) v) {
                    if (b.length() > 1) b.append(',');
                    b.append(write(o));
                }
                return b.append(']').toString();
            }
            StringBuilder b = new StringBuilder("\"");
            for (char c : v.toString().toCharArray()) {
                if (c == '"' || c == '\\') b.append('\\').append(c);
                else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                else b.append(c);
            }
            return b.append('"').toString();
        }
    }
}
