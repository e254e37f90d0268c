package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Client-side traffic for the fault suite, with outcomes that say exactly how a stream ended:
 * complete and byte-exact, cut short by a clean EOF (the silent loss the suite hunts), wrong
 * content, or an error (reset, timeout) after so many bytes.
 */
public final class Traffic {
    static final int CHUNK = 64 * 1024;

    private Traffic() {
    }

    /** How one stream ended. {@code error} is null when the stream ended with a clean EOF. */
    public record Outcome(long expectedLength, long length, boolean sameDigest, Throwable error) {
        public boolean ok() {
            return error == null && length == expectedLength && sameDigest;
        }

        /** Ended with a clean EOF before the whole reply: a cut stream a client takes for complete. */
        public boolean truncatedCleanly() {
            return error == null && length < expectedLength;
        }

        @Override
        public String toString() {
            if (ok()) {
                return "ok (" + length + " bytes)";
            }
            if (error != null) {
                return "error after " + length + " of " + expectedLength + " bytes: " + error;
            }
            if (length != expectedLength) {
                return "clean EOF after " + length + " of " + expectedLength + " bytes";
            }
            return "all " + length + " bytes but wrong content (SHA-256 differs)";
        }
    }

    public static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    public static byte[] sha256(byte[] data) {
        return digest().digest(data);
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    /**
     * Sends {@code data} to an echo server on 127.0.0.1:{@code port}, half-closes, and reads the
     * echo to EOF on a thread of {@code readers} (hashing as it goes). {@code timeout} bounds
     * every read and the whole exchange.
     */
    public static Outcome echo(int port, byte[] data, Duration timeout, ExecutorService readers) {
        MessageDigest digest = digest();
        AtomicLong read = new AtomicLong();
        try (Socket socket = connect(port, timeout)) {
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                try {
                    readToEof(socket.getInputStream(), digest, read);
                } catch (IOException e) {
                    throw new ReadFailure(e);
                }
            }, readers);
            OutputStream out = socket.getOutputStream();
            for (int off = 0; off < data.length; off += CHUNK) {
                out.write(data, off, Math.min(CHUNK, data.length - off));
            }
            socket.shutdownOutput();
            reader.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return new Outcome(data.length, read.get(), false, unwrap(e));
        }
        return new Outcome(data.length, read.get(), MessageDigest.isEqual(digest.digest(), sha256(data)), null);
    }

    /**
     * The owe-after-FIN exchange with a {@link StreamServer} owe port: sends the seed and
     * {@code requestBytes} more, half-closes, waits {@code pause} without reading (so the reply
     * piles up past the socket buffers), then reads {@code oweBytes} to EOF.
     */
    public static Outcome owe(int port, long seed, int requestBytes, int oweBytes, Duration pause, Duration timeout) {
        MessageDigest digest = digest();
        AtomicLong read = new AtomicLong();
        try (Socket socket = connect(port, timeout)) {
            OutputStream out = socket.getOutputStream();
            out.write(ByteBuffer.allocate(8).putLong(seed).array());
            out.write(random(requestBytes, seed));
            socket.shutdownOutput();
            Thread.sleep(pause.toMillis()); // the client's behaviour under test, not a wait for a condition
            readToEof(socket.getInputStream(), digest, read);
        } catch (Exception e) {
            return new Outcome(oweBytes, read.get(), false, unwrap(e));
        }
        byte[] expected = sha256(StreamServer.owed(seed, oweBytes));
        return new Outcome(oweBytes, read.get(), MessageDigest.isEqual(digest.digest(), expected), null);
    }

    /** A socket to 127.0.0.1:{@code port} whose reads time out after {@code timeout}. */
    public static Socket connect(int port, Duration timeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) Math.min(timeout.toMillis(), 10_000));
            socket.setSoTimeout((int) timeout.toMillis());
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static void readToEof(InputStream in, MessageDigest digest, AtomicLong read) throws IOException {
        byte[] buffer = new byte[CHUNK];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            digest.update(buffer, 0, n);
            read.addAndGet(n);
        }
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof CompletionException
                || t instanceof ReadFailure) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class ReadFailure extends RuntimeException {
        ReadFailure(IOException cause) {
            super(cause);
        }
    }
}
