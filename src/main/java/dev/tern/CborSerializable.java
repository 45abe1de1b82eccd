package dev.tern;

/**
 * Marker for every message that crosses the network between nodes. It is bound to Pekko's
 * {@code jackson-cbor} serializer in {@code application.conf}; Java serialization stays off.
 */
public interface CborSerializable {}
