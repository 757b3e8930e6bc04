package dev.kiln.api.http;

/** One API operation: turns a routed, authenticated call into a reply or throws a KilnException. */
@FunctionalInterface
public interface Operation {
  ApiReply handle(ApiCall call) throws Exception;
}
