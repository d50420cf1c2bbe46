import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Read-your-writes checker for pgjdbc: args host port user password database key iterations
 * deadlineSeconds [transactions]. PreparedStatements (server-prepared past prepareThreshold, so
 * the router sees Bind of named statements); autocommit, or with "transactions" each write in a
 * transaction of its own (setAutoCommit(false), commit(): pgjdbc sends BEGIN in the write's
 * batch) and the reads in autocommit. Prints one JSON line like ryw_checker.py.
 */
public class RywChecker {
  public static void main(String[] a) throws Exception {
    Properties p = new Properties();
    p.setProperty("user", a[2]);
    p.setProperty("password", a[3]);
    p.setProperty("sslmode", "disable");
    p.setProperty("connectTimeout", "10");
    p.setProperty("ApplicationName", "ryw-pgjdbc");
    String key = a[5];
    int iterations = Integer.parseInt(a[6]);
    long deadline = System.nanoTime() + (long) (Double.parseDouble(a[7]) * 1e9);
    boolean transactions = a.length > 8 && a[8].equals("transactions");
    Map<String, Integer> reads = new TreeMap<>();
    List<String> errors = new ArrayList<>();
    int stale = 0;
    int done = 0;
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + a[0] + ":" + a[1] + "/" + a[4], p)) {
      c.setAutoCommit(true);
      try (PreparedStatement s = c.prepareStatement("INSERT INTO ryw_check (k, v) VALUES (?, 0) ON CONFLICT (k) DO UPDATE SET v = 0")) {
        s.setString(1, key);
        s.executeUpdate();
      }
      PreparedStatement write = c.prepareStatement("UPDATE ryw_check SET v = ? WHERE k = ?");
      PreparedStatement read = c.prepareStatement("SELECT (SELECT v FROM ryw_check WHERE k = ?), inet_server_port()");
      for (int i = 1; i <= iterations; i++) {
        if (System.nanoTime() > deadline) {
          errors.add("deadline passed");
          break;
        }
        try {
          write.setInt(1, i);
          write.setString(2, key);
          if (transactions) c.setAutoCommit(false);
          write.executeUpdate();
          if (transactions) {
            c.commit();
            c.setAutoCommit(true);
          }
          for (int r = 0; r < 2; r++) {
            read.setString(1, key);
            try (ResultSet rs = read.executeQuery()) {
              rs.next();
              reads.merge(String.valueOf(rs.getInt(2)), 1, Integer::sum);
              if (rs.getInt(1) != i) stale++;
            }
          }
          done = i;
        } catch (java.sql.SQLException e) {
          errors.add(e.getSQLState() + ": " + e.getMessage());
          if (errors.size() > 5) break;
        }
      }
    }
    StringBuilder out = new StringBuilder("{\"iterations\":" + done + ",\"stale\":" + stale + ",\"reads\":{");
    String sep = "";
    for (Map.Entry<String, Integer> e : reads.entrySet()) {
      out.append(sep).append('"').append(e.getKey()).append("\":").append(e.getValue());
      sep = ",";
    }
    out.append("},\"errors\":[");
    sep = "";
    for (String e : errors) {
      out.append(sep).append('"').append(e.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ")).append('"');
      sep = ",";
    }
    System.out.println(out.append("]}"));
  }
}
