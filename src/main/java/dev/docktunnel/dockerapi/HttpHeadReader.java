package dev.docktunnel.dockerapi;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads one HTTP/1.x message head (start line and header fields, RFC 9112) from bytes that arrive
 * in pieces, keeping only the start line and the few header values that decide framing. Holds at
 * most the current line, and a whole head may not exceed {@code maxHeadBytes}. Single-threaded.
 */
final class HttpHeadReader {
  /** Which start line to expect. */
  enum Kind { REQUEST, RESPONSE }

  private static final int INITIAL_LINE_CAPACITY = 256;
  private static final int KEPT_LINE_CAPACITY = 4096;

  private final Kind kind;
  private final int maxHeadBytes;
  private byte[] line = new byte[INITIAL_LINE_CAPACITY];
  private int lineLength;
  private int headBytes;
  private boolean startLineSeen;
  private boolean complete;
  private String error;

  // The start line.
  private String method;
  private String target;
  private String version;
  private int status;
  // The header values that matter for framing; null when absent.
  private String contentLength;
  private String transferEncoding;
  private String contentType;
  private String upgrade;
  private boolean expectContinue;

  HttpHeadReader(Kind kind, int maxHeadBytes) {
    this.kind = kind;
    this.maxHeadBytes = maxHeadBytes;
  }

  /** Forgets the previous head, ready for the next message. */
  void reset() {
    if (line.length > KEPT_LINE_CAPACITY) {
      line = new byte[INITIAL_LINE_CAPACITY]; // one long line must not pin 64 KiB for the connection's life
    }
    lineLength = 0;
    headBytes = 0;
    startLineSeen = false;
    complete = false;
    error = null;
    method = null;
    target = null;
    version = null;
    status = 0;
    contentLength = null;
    transferEncoding = null;
    contentType = null;
    upgrade = null;
    expectContinue = false;
  }

  /**
   * Reads from {@code buf} between the absolute indexes {@code from} and {@code to}, without
   * moving its indexes. Stops after the head's last byte, or on an error.
   *
   * @return the index after the last byte consumed
   */
  int feed(ByteBuf buf, int from, int to) {
    int i = from;
    while (i < to && !complete && error == null) {
      int lf = buf.indexOf(i, to, (byte) '\n');
      int end = lf < 0 ? to : lf;
      int n = end - i;
      if ((long) headBytes + n + (lf < 0 ? 0 : 1) > maxHeadBytes) {
        error = (kind == Kind.REQUEST ? "request" : "response") + " head over " + maxHeadBytes + " bytes";
        return end;
      }
      append(buf, i, n);
      headBytes += n;
      if (lf < 0) {
        return to;
      }
      headBytes++;
      i = lf + 1;
      endOfLine();
    }
    return i;
  }

  boolean isComplete() {
    return complete;
  }

  /** Why the head cannot be read, or null. */
  String error() {
    return error;
  }

  String method() {
    return method;
  }

  String target() {
    return target;
  }

  String version() {
    return version;
  }

  int status() {
    return status;
  }

  /** The Content-Length value (identical repeats folded to one), or null. */
  String contentLength() {
    return contentLength;
  }

  /** All Transfer-Encoding values joined by commas, lower case, or null. */
  String transferEncoding() {
    return transferEncoding;
  }

  /** The media type of Content-Type, lower case without parameters, or null. */
  String mediaType() {
    return contentType;
  }

  String upgrade() {
    return upgrade;
  }

  boolean expectContinue() {
    return expectContinue;
  }

  /** The line buffer's size, for tests that check the reader holds no more than one line. */
  int lineCapacity() {
    return line.length;
  }

  private void append(ByteBuf buf, int index, int n) {
    if (n == 0) {
      return;
    }
    if (lineLength + n > line.length) {
      int capacity = line.length;
      while (capacity < lineLength + n) {
        capacity *= 2;
      }
      byte[] grown = new byte[Math.min(capacity, maxHeadBytes)];
      System.arraycopy(line, 0, grown, 0, lineLength);
      line = grown;
    }
    buf.getBytes(index, line, lineLength, n);
    lineLength += n;
  }

  private void endOfLine() {
    int n = lineLength;
    lineLength = 0;
    if (n > 0 && line[n - 1] == '\r') {
      n--;
    }
    for (int k = 0; k < n; k++) {
      if (line[k] == '\r') {
        error = "bare CR in " + (startLineSeen ? "a header line" : "the start line") + ": " + quote(n);
        return;
      }
    }
    if (!startLineSeen) {
      if (n == 0 && kind == Kind.REQUEST) {
        return; // RFC 9112 2.2: empty lines before a request line are ignored
      }
      startLineSeen = true;
      if (kind == Kind.REQUEST) {
        requestLine(n);
      } else {
        statusLine(n);
      }
      return;
    }
    if (n == 0) {
      complete = true;
      return;
    }
    headerLine(n);
  }

  private void requestLine(int n) {
    int sp1 = indexOf(' ', 0, n);
    int sp2 = sp1 < 0 ? -1 : indexOf(' ', sp1 + 1, n);
    if (sp1 <= 0 || sp2 < 0 || sp2 == sp1 + 1 || indexOf(' ', sp2 + 1, n) >= 0) {
      error = "not an HTTP request line: " + quote(n);
      return;
    }
    for (int k = 0; k < sp1; k++) {
      if (!isTokenChar(line[k])) {
        error = "not an HTTP request line: " + quote(n);
        return;
      }
    }
    for (int k = sp1 + 1; k < sp2; k++) {
      if (line[k] <= ' ' && line[k] >= 0 || line[k] == 0x7f) {
        error = "control character in the request target: " + quote(n);
        return;
      }
    }
    String v = text(sp2 + 1, n);
    if (!v.equals("HTTP/1.1") && !v.equals("HTTP/1.0")) {
      error = "unsupported HTTP version in request line: " + quote(n);
      return;
    }
    method = text(0, sp1);
    target = text(sp1 + 1, sp2);
    version = v;
  }

  private void statusLine(int n) {
    // HTTP-version SP 3DIGIT SP [reason]; a missing SP before an empty reason is tolerated.
    boolean ok = n >= 12 && text(0, 7).equals("HTTP/1.") && line[7] >= '0' && line[7] <= '9'
        && line[8] == ' ' && digit(9) && digit(10) && digit(11) && (n == 12 || line[12] == ' ');
    if (!ok) {
      error = "not an HTTP status line: " + quote(n);
      return;
    }
    version = text(0, 8);
    status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  }

  private void headerLine(int n) {
    if (line[0] == ' ' || line[0] == '\t') {
      error = "obsolete folded header line: " + quote(n);
      return;
    }
    int colon = indexOf(':', 0, n);
    if (colon <= 0) {
      error = "header line without a name and colon: " + quote(n);
      return;
    }
    for (int k = 0; k < colon; k++) {
      if (!isTokenChar(line[k])) {
        error = "bad header name: " + quote(n);
        return;
      }
    }
    if (nameIs("content-length", colon)) {
      String value = value(colon, n);
      for (String part : value.split(",", -1)) {
        String v = part.trim();
        if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
          error = "bad Content-Length: " + quote(n);
          return;
        }
        if (contentLength != null && Long.parseLong(contentLength) != Long.parseLong(v)) {
          error = "conflicting Content-Length values: " + contentLength + " and " + v;
          return;
        }
        contentLength = v;
      }
    } else if (nameIs("transfer-encoding", colon)) {
      String value = value(colon, n).toLowerCase(Locale.ROOT);
      transferEncoding = transferEncoding == null ? value : transferEncoding + "," + value;
    } else if (nameIs("content-type", colon)) {
      String value = value(colon, n);
      int semi = value.indexOf(';');
      contentType = (semi < 0 ? value : value.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    } else if (nameIs("upgrade", colon)) {
      upgrade = value(colon, n); // the engine upgrades on Upgrade alone, without Connection: upgrade
    } else if (nameIs("expect", colon)) {
      expectContinue |= value(colon, n).equalsIgnoreCase("100-continue");
    }
  }

  private boolean nameIs(String lowerName, int colon) {
    if (colon != lowerName.length()) {
      return false;
    }
    for (int k = 0; k < colon; k++) {
      int c = line[k];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lowerName.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private String value(int colon, int n) {
    int start = colon + 1;
    int end = n;
    while (start < end && (line[start] == ' ' || line[start] == '\t')) {
      start++;
    }
    while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t')) {
      end--;
    }
    return text(start, end);
  }

  private boolean digit(int k) {
    return line[k] >= '0' && line[k] <= '9';
  }

  private int indexOf(char c, int from, int to) {
    for (int k = from; k < to; k++) {
      if (line[k] == c) {
        return k;
      }
    }
    return -1;
  }

  private String text(int from, int to) {
    return new String(line, from, to - from, StandardCharsets.ISO_8859_1);
  }

  /** The line for an error message: at most 80 characters, control characters escaped. */
  private String quote(int n) {
    return HttpExchangeObserver.quote(line, 0, n);
  }

  /** RFC 9110 tchar. */
  private static boolean isTokenChar(byte b) {
    if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
  }
}
