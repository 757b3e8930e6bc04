package dev.kiln.e2e.support;

import ch.qos.logback.classic.Level;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real single-node Kafka 4 broker in KRaft mode (broker and controller in one process), started
 * as its own JVM the way {@code kafka-storage.sh format} and {@code kafka-server-start.sh} start
 * one, from the class path Maven wrote to {@code target/kafka-broker.classpath}. Its data and log
 * live in a temporary directory that {@link #close} removes.
 */
public final class KafkaBroker implements AutoCloseable {
  static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  private final Path dir;
  private final int port;
  private final Process process;
  private final Admin admin;
  private final KafkaProducer<String, String> producer;

  private KafkaBroker(Path dir, int port, Process process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
    this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000"));
    var config = new Properties();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
  }

  static {
    // The test JVM's own Kafka clients dump their configuration at INFO and warn about every
    // connection attempt while the broker starts.
    QuietLogs.set(Level.ERROR, "org.apache.kafka");
  }

  public static KafkaBroker start() {
    Path dir;
    try {
      dir = Files.createTempDirectory("kiln-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int port = KilnServer.freePort();
    int controllerPort = KilnServer.freePort();
    try {
      Path properties = dir.resolve("server.properties");
      Files.writeString(properties, String.join("\n",
          "process.roles=broker,controller",
          "node.id=1",
          "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
          "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
          "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
          "controller.listener.names=CONTROLLER",
          "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
          "inter.broker.listener.name=PLAINTEXT",
          "log.dirs=" + dir.resolve("data"),
          "num.partitions=1",
          "auto.create.topics.enable=false",
          // One node: internal topics with one replica, and few partitions so they are made quickly.
          "offsets.topic.replication.factor=1",
          "offsets.topic.num.partitions=1",
          "transaction.state.log.replication.factor=1",
          "transaction.state.log.min.isr=1",
          "transaction.state.log.num.partitions=1",
          "share.coordinator.state.topic.replication.factor=1",
          "share.coordinator.state.topic.min.isr=1",
          "group.initial.rebalance.delay.ms=0",
          ""));
      Path logback = dir.resolve("logback.xml");
      Files.writeString(logback, """
          <configuration>
            <appender name="FILE" class="ch.qos.logback.core.FileAppender">
              <file>%s</file>
              <encoder><pattern>%%d{HH:mm:ss.SSS} %%-5level %%logger{20} %%msg%%n</pattern></encoder>
            </appender>
            <root level="WARN"><appender-ref ref="FILE"/></root>
          </configuration>
          """.formatted(dir.resolve("broker.log")));
      List<String> java = javaCommand(logback);
      List<String> format = new ArrayList<>(java);
      format.addAll(List.of("kafka.tools.StorageTool", "format", "--standalone", "-t", Uuid.randomUuid().toString(),
          "-c", properties.toString()));
      run(format, dir.resolve("format.out"));
      List<String> server = new ArrayList<>(java);
      server.addAll(List.of("kafka.Kafka", properties.toString()));
      Process process = new ProcessBuilder(server).redirectErrorStream(true)
          .redirectOutput(dir.resolve("broker.out").toFile()).start();
      var broker = new KafkaBroker(dir, port, process);
      broker.awaitReady();
      return broker;
    } catch (IOException e) {
      KilnTestBase.deleteRecursively(dir);
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> javaCommand(Path logback) throws IOException {
    Path classpath = Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "target",
        "kafka-broker.classpath");
    if (!Files.isRegularFile(classpath)) {
      throw new IllegalStateException(classpath + " is missing: run the e2e tests through Maven (mvn -pl e2e verify),"
          + " which writes the broker's class path there.");
    }
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dlogback.configurationFile=" + logback,
        "-cp", Files.readString(classpath).strip());
  }

  private static void run(List<String> command, Path output) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      if (!process.waitFor(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("formatting the Kafka storage did not finish: " + Files.readString(output));
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException("formatting the Kafka storage failed: " + Files.readString(output));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException(e);
    }
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      if (!process.isAlive()) {
        close();
        throw new IllegalStateException("the Kafka broker exited before it was ready; see its output above");
      }
      try {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          String log = tail();
          close();
          throw new IllegalStateException("the Kafka broker was not ready within " + READY_TIMEOUT + ":\n" + log, e);
        }
      }
    }
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public Admin admin() {
    return admin;
  }

  public void createTopic(String topic, int partitions) {
    try {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  /** Sends a record to a partition and waits until the broker has it. */
  public void send(String topic, int partition, String key, String value, Map<String, String> headers) {
    var record = new ProducerRecord<>(topic, partition, key, value);
    headers.forEach((name, text) -> record.headers().add(new RecordHeader(name,
        text.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    try {
      producer.send(record).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot send to " + topic + "-" + partition, e);
    }
  }

  /** The consumer group's committed offset by partition (absent: nothing committed). */
  public Map<Integer, Long> committedOffsets(String group) {
    try {
      var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      var result = new HashMap<Integer, Long>();
      offsets.forEach((partition, offset) -> {
        if (offset != null) {
          result.put(partition.partition(), offset.offset());
        }
      });
      return result;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the offsets of group " + group, e);
    }
  }

  /** The next offset to be written, by partition. */
  public Map<Integer, Long> endOffsets(String topic, int partitions) {
    var request = new HashMap<TopicPartition, OffsetSpec>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    try {
      var result = new HashMap<Integer, Long>();
      admin.listOffsets(request).all().get(30, TimeUnit.SECONDS)
          .forEach((partition, info) -> result.put(partition.partition(), info.offset()));
      return result;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the end offsets of " + topic, e);
    }
  }

  /** The broker's last lines, for failure messages. */
  public String tail() {
    try {
      var out = Files.exists(dir.resolve("broker.out")) ? Files.readString(dir.resolve("broker.out")) : "";
      var log = Files.exists(dir.resolve("broker.log")) ? Files.readString(dir.resolve("broker.log")) : "";
      var all = out + log;
      return all.substring(Math.max(0, all.length() - 4000));
    } catch (IOException e) {
      return "(broker output unreadable: " + e + ")";
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
    admin.close(Duration.ofSeconds(5));
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    KilnTestBase.deleteRecursively(dir);
  }
}
