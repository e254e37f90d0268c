package dev.docktunnel.docker;

import java.time.Instant;

/**
 * The engine's {@code /version} answer and the API version we negotiated with it.
 *
 * @param version       engine release, e.g. {@code 20.10.24+dfsg1}
 * @param apiVersion    newest API the engine speaks
 * @param minApiVersion oldest API the engine still accepts (when it does not say: the smaller of
 *                      its API and {@link DockerEngineClient#MIN_API})
 * @param os            engine OS ({@code linux})
 * @param arch          engine architecture ({@code amd64})
 * @param negotiated    the API version used as path prefix ({@code /v1.41/...}) from now on
 * @param serverTime    the engine's clock from the response's {@code Date} header (second
 *                      precision), or null when absent
 */
public record EngineVersion(String version, ApiVersion apiVersion, ApiVersion minApiVersion,
                            String os, String arch, ApiVersion negotiated, Instant serverTime) {
}
