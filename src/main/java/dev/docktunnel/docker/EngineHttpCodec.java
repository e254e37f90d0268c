package dev.docktunnel.docker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * HTTP/1.1 for one request/response over a raw byte stream, done by Netty's
 * {@link HttpClientCodec} inside an {@link EmbeddedChannel}: we hand it the bytes read from the
 * SSH channel and get back parsed parts (status line and headers, body pieces with chunked or
 * content-length framing undone, end of message). Single-threaded: use it from one context.
 */
final class EngineHttpCodec implements AutoCloseable {
  private static final int MAX_INITIAL_LINE = 8 * 1024;
  private static final int MAX_HEADER_SIZE = 64 * 1024;
  private static final int MAX_CHUNK = 64 * 1024;

  /** One parsed piece of the response. */
  sealed interface Part permits Head, Body, End {
  }

  /** Status line and headers. */
  record Head(int status, String reason, HttpHeaders headers) implements Part {
  }

  /** A piece of the body (never empty). */
  record Body(Buffer bytes) implements Part {
  }

  /** The response is complete. */
  record End() implements Part {
  }

  private final EmbeddedChannel channel =
      new EmbeddedChannel(new HttpClientCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, MAX_CHUNK));
  private boolean ended;

  /**
   * Encodes a body-less request with {@code Host: docker} (what the docker CLI sends over a
   * Unix socket). The codec remembers the method, which it needs to frame the response.
   */
  Buffer encodeRequest(HttpMethod method, String uri) {
    DefaultFullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.EMPTY_BUFFER);
    request.headers()
        .set(HttpHeaderNames.HOST, "docker")
        .set(HttpHeaderNames.USER_AGENT, "docktunnel")
        .set(HttpHeaderNames.ACCEPT, "application/json");
    channel.writeOutbound(request);
    Buffer out = Buffer.buffer();
    for (ByteBuf buf = channel.readOutbound(); buf != null; buf = channel.readOutbound()) {
      try {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        out.appendBytes(bytes);
      } finally {
        buf.release();
      }
    }
    return out;
  }

  /**
   * Parses the next bytes of the response.
   *
   * @throws DockerEngineException when the bytes are not valid HTTP (or exceed the codec's line
   *     and header limits)
   */
  List<Part> decode(Buffer bytes) {
    if (ended || bytes.length() == 0) {
      return List.of();
    }
    channel.writeInbound(Unpooled.wrappedBuffer(bytes.getBytes()));
    return drain();
  }

  /**
   * The connection ended: returns what that completes (a body delimited by connection close
   * ends here).
   *
   * @throws DockerEngineException when the response was cut short
   */
  List<Part> endOfInput() {
    if (ended) {
      return List.of();
    }
    String incomplete = "the engine closed the connection before the response was complete";
    List<Part> parts;
    try {
      channel.finish(); // fires channelInactive: the decoder flushes or fails what it holds
      parts = drain();
    } catch (DockerEngineException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new DockerEngineException(incomplete + " (" + cause.getMessage() + ")", cause);
    }
    if (!ended) {
      throw new DockerEngineException(incomplete);
    }
    return parts;
  }

  /** True once the whole response was parsed. */
  boolean isEnded() {
    return ended;
  }

  private List<Part> drain() {
    List<Part> parts = new ArrayList<>();
    for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
      try {
        if (ended) {
          continue; // bytes after the response are not ours to interpret
        }
        DecoderResult result = ((HttpObject) msg).decoderResult();
        if (result.isFailure()) {
          Throwable cause = result.cause();
          throw new DockerEngineException("malformed HTTP response from the engine: "
              + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
        }
        if (msg instanceof HttpResponse response) {
          parts.add(new Head(response.status().code(), response.status().reasonPhrase(),
              response.headers()));
        }
        if (msg instanceof HttpContent content && content.content().isReadable()) {
          ByteBuf buf = content.content();
          byte[] bytes = new byte[buf.readableBytes()];
          buf.getBytes(buf.readerIndex(), bytes);
          parts.add(new Body(Buffer.buffer(bytes)));
        }
        if (msg instanceof LastHttpContent) {
          ended = true;
          parts.add(new End());
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
    return parts;
  }

  @Override
  public void close() {
    for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
      ReferenceCountUtil.release(msg);
    }
    channel.finishAndReleaseAll();
  }
}
