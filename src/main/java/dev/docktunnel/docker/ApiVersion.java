package dev.docktunnel.docker;

/**
 * A Docker Engine API version such as {@code 1.41}; compares numerically (1.9 &lt; 1.10).
 *
 * @param major major number (1 for every engine so far)
 * @param minor minor number
 */
public record ApiVersion(int major, int minor) implements Comparable<ApiVersion> {

  /** Validates non-negative parts. */
  public ApiVersion {
    if (major < 0 || minor < 0) {
      throw new IllegalArgumentException("negative API version: " + major + "." + minor);
    }
  }

  /**
   * Parses {@code "1.41"}.
   *
   * @throws IllegalArgumentException when the text is not {@code <int>.<int>}
   */
  public static ApiVersion parse(String text) {
    if (text != null) {
      String[] parts = text.trim().split("\\.");
      if (parts.length == 2) {
        try {
          return new ApiVersion(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        } catch (NumberFormatException e) {
          // fall through to the error below
        }
      }
    }
    throw new IllegalArgumentException("not a Docker API version: " + text);
  }

  /** The smaller of two versions. */
  public static ApiVersion min(ApiVersion a, ApiVersion b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  @Override
  public int compareTo(ApiVersion other) {
    return major != other.major ? Integer.compare(major, other.major)
        : Integer.compare(minor, other.minor);
  }

  /** {@code "1.41"}. */
  @Override
  public String toString() {
    return major + "." + minor;
  }
}
