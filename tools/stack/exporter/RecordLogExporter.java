package fulfilment.exporter;

import io.camunda.zeebe.exporter.api.Exporter;
import io.camunda.zeebe.exporter.api.context.Context;
import io.camunda.zeebe.exporter.api.context.Controller;
import io.camunda.zeebe.protocol.record.Record;
import io.camunda.zeebe.protocol.record.RecordType;
import io.camunda.zeebe.protocol.record.ValueType;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;

/**
 * Appends the engine's events as JSON lines to a file, so the local stack can answer "is this
 * instance completed, which incidents are open, which user tasks wait" without Operate, whose
 * secondary storage cannot run here (docs/adr/0002-camunda-distribution.md).
 */
public final class RecordLogExporter implements Exporter {
  private static final Set<ValueType> EXPORTED =
      EnumSet.of(ValueType.PROCESS_INSTANCE, ValueType.INCIDENT, ValueType.JOB, ValueType.USER_TASK,
          ValueType.TIMER, ValueType.VARIABLE, ValueType.MESSAGE);

  private Path path;
  private BufferedWriter out;
  private Controller controller;

  @Override
  public void configure(final Context context) {
    final Object configured = context.getConfiguration().getArguments().get("path");
    if (configured == null) {
      throw new IllegalArgumentException("the record log exporter needs args.path");
    }
    path = Path.of(configured.toString());
    context.setFilter(
        new Context.RecordFilter() {
          @Override
          public boolean acceptType(final RecordType recordType) {
            return recordType == RecordType.EVENT;
          }

          @Override
          public boolean acceptValue(final ValueType valueType) {
            return EXPORTED.contains(valueType);
          }
        });
  }

  @Override
  public void open(final Controller controller) {
    this.controller = controller;
    try {
      Files.createDirectories(path.getParent());
      dropTornRecord(path);
      out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (final IOException e) {
      throw new UncheckedIOException("cannot open the record log " + path, e);
    }
  }

  /**
   * A broker killed mid-write leaves its last record cut short. That record's position was never
   * acknowledged, so the broker exports it again after the restart; the fragment goes, or it would
   * run into the next line.
   */
  private static void dropTornRecord(final Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
      long end = file.length();
      while (end > 0) {
        file.seek(end - 1);
        if (file.read() == '\n') {
          break;
        }
        end--;
      }
      file.setLength(end);
    }
  }

  @Override
  public void export(final Record<?> record) {
    try {
      out.write(record.toJson());
      out.newLine();
      out.flush();
    } catch (final IOException e) {
      // Not acknowledging the position makes the broker hand this record over again.
      throw new UncheckedIOException("cannot append to the record log " + path, e);
    }
    controller.updateLastExportedRecordPosition(record.getPosition());
  }

  @Override
  public void close() {
    try {
      if (out != null) {
        out.close();
      }
    } catch (final IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
