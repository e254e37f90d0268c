package dev.docktunnel.dockerapi;

/**
 * What {@link HttpExchangeObserver} keeps of one request's head: its request line and the header
 * values that decide the framing of the exchange. Nothing else of the head is kept.
 *
 * @param index the request's number on its connection, from 0 (two identical requests differ by it)
 * @param method the method, as sent ({@code GET}, {@code POST}, ...)
 * @param target the request target, raw as sent ({@code /v1.41/containers/json?all=1})
 * @param path the target without its query ({@code /v1.41/containers/json}); for an absolute-form
 *     target ({@code http://docker/_ping}) the path part, {@code /} when it has none
 * @param query the raw query after {@code ?}, or null when the target has none
 * @param version the HTTP version, {@code HTTP/1.1} or {@code HTTP/1.0}
 * @param contentLength the Content-Length, or -1 when there is none
 * @param chunked whether Transfer-Encoding ends in {@code chunked} (then contentLength is ignored)
 * @param upgrade the Upgrade header's value ({@code tcp}, {@code h2c}, {@code websocket}), or null
 * @param expectContinue whether the request carries {@code Expect: 100-continue}
 */
public record RequestHead(long index, String method, String target, String path, String query,
    String version, long contentLength, boolean chunked, String upgrade, boolean expectContinue) {
}
