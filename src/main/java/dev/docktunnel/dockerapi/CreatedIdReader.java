package dev.docktunnel.dockerapi;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

/**
 * Reads the new container's id from the body of a {@code 201} answer to {@code POST
 * /containers/create} ({@code {"Id":"4fa6...","Warnings":[]}}), fed in pieces as it passes (from
 * {@link HttpExchangeObserver.Listener#responseBody}). It keeps a copy of at most {@link
 * #MAX_BODY_BYTES}; a longer body is not read. Single-threaded; one reader per response.
 */
public final class CreatedIdReader {
  /** The most body bytes copied; a create answer is about 90 bytes. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  private static final Pattern CONTAINER_ID = Pattern.compile("[0-9a-f]{12,64}");

  private Buffer body = Buffer.buffer(128);
  private long seen;

  /** Copies {@code length} bytes of {@code buf} from {@code index} (its indexes untouched). */
  public void feed(ByteBuf buf, int index, int length) {
    seen += length;
    if (seen <= MAX_BODY_BYTES) {
      byte[] bytes = new byte[length];
      buf.getBytes(index, bytes);
      body.appendBytes(bytes);
    } else {
      body = null; // over the bound: nothing more is kept
    }
  }

  /**
   * The {@code Id} of the complete body.
   *
   * @throws IllegalArgumentException naming the problem when the body is over the bound, not a
   *     JSON object, or has no container id in {@code Id}
   */
  public String id() {
    if (body == null) {
      throw new IllegalArgumentException("create response body is " + seen + " bytes, over the "
          + MAX_BODY_BYTES + " read for its Id");
    }
    JsonObject json;
    try {
      json = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("create response body is not a JSON object: "
          + String.valueOf(e.getMessage()).replaceAll("\\s+", " "));
    }
    Object id = json.getValue("Id");
    if (!(id instanceof String s) || !CONTAINER_ID.matcher(s).matches()) {
      throw new IllegalArgumentException("create response body has no container id in \"Id\": "
          + (id == null ? "absent" : "\"" + id + "\""));
    }
    return s;
  }
}
