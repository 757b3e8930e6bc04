/** Prints a free TCP port on 127.0.0.1, for scripts that start servers for tests. */
void main() throws Exception {
  try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
    System.out.println(socket.getLocalPort());
  }
}
