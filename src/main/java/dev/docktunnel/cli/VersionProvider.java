package dev.docktunnel.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (set by the build), or "dev" when run from classes. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new String[] {"docktunnel " + (version == null ? "dev" : version)};
  }
}
