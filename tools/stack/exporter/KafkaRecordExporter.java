package fulfilment.exporter;

import io.camunda.zeebe.exporter.api.Exporter;
import io.camunda.zeebe.exporter.api.context.Context;
import io.camunda.zeebe.exporter.api.context.Controller;
import io.camunda.zeebe.exporter.api.context.ScheduledTask;
import io.camunda.zeebe.protocol.record.Record;
import io.camunda.zeebe.protocol.record.RecordType;
import io.camunda.zeebe.protocol.record.RecordValue;
import io.camunda.zeebe.protocol.record.ValueType;
import io.camunda.zeebe.protocol.record.value.ProcessInstanceRelated;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;

/**
 * Publishes the engine's events to a Kafka topic as Zeebe's own JSON, keyed by process instance, so
 * the process monitor, the tests and analysts read them like any other topic.
 *
 * <p>A position is acknowledged to the broker only once Kafka has that record and every one before
 * it: the broker keeps its log up to there and, after a restart of either side, exports the rest
 * again. Delivery is therefore at least once; a record is identified by (partitionId, position).
 *
 * <p>While Kafka is away the producer keeps retrying what it holds; once {@link #MAX_UNACKNOWLEDGED}
 * records wait, {@link #export} refuses more and the broker hands the same record over again later,
 * so memory stays bounded and nothing is skipped.
 */
public final class KafkaRecordExporter implements Exporter {
  private static final int MAX_UNACKNOWLEDGED = 20_000;
  private static final Duration ACKNOWLEDGE_EVERY = Duration.ofMillis(500);
  private static final Duration RECONNECT_PAUSE = Duration.ofSeconds(2);

  private final Properties producerConfig = new Properties();
  private String topic;
  private final Set<ValueType> exported = EnumSet.noneOf(ValueType.class);
  private Logger log;
  private Controller controller;
  private KafkaProducer<String, String> producer;
  private ScheduledTask acknowledging;

  // Sent and not yet acknowledged by Kafka, by position; written by the producer's callbacks too.
  private final ConcurrentSkipListMap<Long, ProducerRecord<String, String>> unacknowledged =
      new ConcurrentSkipListMap<>();
  // Set by a callback when Kafka refused a record for good: the producer is then replaced and
  // everything unacknowledged is sent again, in order.
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  // Which producer sent a record: failures reported by a discarded one are not news.
  private volatile long generation;
  private long nextAttempt;
  private long lastSent = -1;
  private long lastAcknowledged = -1;

  @Override
  public void configure(final Context context) {
    final Map<String, Object> args = context.getConfiguration().getArguments();
    final Object bootstrap = args.get("bootstrap");
    final Object configuredTopic = args.get("topic");
    final Object valueTypes = args.get("types");
    if (bootstrap == null || configuredTopic == null || valueTypes == null) {
      throw new IllegalArgumentException("the Kafka record exporter needs args.bootstrap (Kafka servers), "
          + "args.topic and args.types (value types, comma-separated, e.g. PROCESS_INSTANCE,JOB)");
    }
    topic = configuredTopic.toString();
    for (final String name : valueTypes.toString().split(",")) {
      exported.add(ValueType.valueOf(name.trim()));
    }
    log = context.getLogger();
    producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap.toString());
    producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, "zeebe-record-exporter-" + context.getPartitionId());
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    // Retry for as long as Kafka is away: the broker keeps the log until we acknowledge.
    producerConfig.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(Integer.MAX_VALUE));
    // Never hold the exporter's thread long: refusing the record makes the broker offer it again.
    producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000");
    producerConfig.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(4 * 1024 * 1024));
    producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    context.setFilter(
        new Context.RecordFilter() {
          @Override
          public boolean acceptType(final RecordType recordType) {
            return recordType == RecordType.EVENT;
          }

          @Override
          public boolean acceptValue(final ValueType valueType) {
            return exported.contains(valueType);
          }
        });
  }

  @Override
  public void open(final Controller controller) {
    this.controller = controller;
    acknowledging = controller.scheduleCancellableTask(ACKNOWLEDGE_EVERY, this::acknowledgeAndReschedule);
  }

  @Override
  public void export(final Record<?> record) {
    ensureProducer();
    if (unacknowledged.size() >= MAX_UNACKNOWLEDGED) {
      throw new IllegalStateException(
          "Kafka has not acknowledged " + unacknowledged.size() + " records yet; is it reachable?");
    }
    send(record.getPosition(), new ProducerRecord<>(topic, keyOf(record), record.toJson()));
    lastSent = record.getPosition();
  }

  /** Records of one process instance share a key, so they stay in order on one Kafka partition. */
  private static String keyOf(final Record<?> record) {
    final RecordValue value = record.getValue();
    if (value instanceof ProcessInstanceRelated related && related.getProcessInstanceKey() > 0) {
      return Long.toString(related.getProcessInstanceKey());
    }
    return Long.toString(record.getKey());
  }

  /**
   * A producer that knows the topic's partitions: from then on it holds records through an outage of
   * any length instead of failing them. After a failure (a record refused for good) a new producer
   * sends everything unacknowledged again, in order. Throws while that is not possible yet, so the
   * broker offers the record again later.
   */
  private void ensureProducer() {
    final Exception error = failure.getAndSet(null);
    if (error != null) {
      log.warn("Kafka refused a record ({}); a new producer sends the {} unacknowledged records again",
          error.toString(), unacknowledged.size());
      discardProducer();
    }
    if (producer != null) {
      return;
    }
    if (System.nanoTime() < nextAttempt) {
      throw new IllegalStateException("waiting before connecting to Kafka again");
    }
    nextAttempt = System.nanoTime() + RECONNECT_PAUSE.toNanos();
    final KafkaProducer<String, String> fresh = newProducer();
    try {
      fresh.partitionsFor(topic); // waits up to max.block.ms for the topic's metadata
    } catch (final RuntimeException e) {
      fresh.close(Duration.ZERO);
      throw new IllegalStateException("Kafka does not answer for topic " + topic + ": " + e, e);
    }
    producer = fresh;
    for (final Map.Entry<Long, ProducerRecord<String, String>> entry : unacknowledged.entrySet()) {
      send(entry.getKey(), entry.getValue());
    }
  }

  private KafkaProducer<String, String> newProducer() {
    // Kafka's client finds its classes through the context class loader; ours is the exporter's jar.
    final Thread thread = Thread.currentThread();
    final ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(getClass().getClassLoader());
    try {
      return new KafkaProducer<>(producerConfig);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  private void discardProducer() {
    if (producer != null) {
      generation++; // the callbacks its close fires report failures of a past generation
      producer.close(Duration.ZERO);
      producer = null;
    }
  }

  private void send(final long position, final ProducerRecord<String, String> message) {
    final long sentBy = generation;
    unacknowledged.put(position, message);
    try {
      producer.send(
          message,
          (metadata, error) -> {
            if (error == null) {
              unacknowledged.remove(position);
            } else if (sentBy == generation) {
              failure.compareAndSet(null, error);
            }
          });
    } catch (final RuntimeException e) {
      // Not taken (a full buffer within max.block.ms): the broker offers it again.
      unacknowledged.remove(position);
      throw e;
    }
  }

  private void acknowledgeAndReschedule() {
    try {
      if (failure.get() != null || (producer == null && !unacknowledged.isEmpty())) {
        ensureProducer();
      }
      acknowledge();
    } catch (final RuntimeException e) {
      log.warn("acknowledging exported positions failed; trying again", e);
    } finally {
      acknowledging = controller.scheduleCancellableTask(ACKNOWLEDGE_EVERY, this::acknowledgeAndReschedule);
    }
  }

  /** Everything up to just before the oldest unacknowledged record is safely in Kafka. */
  private void acknowledge() {
    final Map.Entry<Long, ProducerRecord<String, String>> oldest = unacknowledged.firstEntry();
    final long safe = oldest == null ? lastSent : oldest.getKey() - 1;
    if (safe > lastAcknowledged) {
      controller.updateLastExportedRecordPosition(safe);
      lastAcknowledged = safe;
    }
  }

  @Override
  public void close() {
    if (acknowledging != null) {
      acknowledging.cancel();
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      acknowledge();
      producer = null;
    }
  }
}
