package dev.kiln.control;

import static dev.kiln.core.KilnException.conflict;
import static dev.kiln.core.KilnException.invalid;
import static dev.kiln.core.KilnException.notFound;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.schedules.FlexibleTimeWindow;
import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleDefinition;
import dev.kiln.core.schedules.ScheduleEvents;
import dev.kiln.core.schedules.ScheduleExpression;
import dev.kiln.core.schedules.ScheduleHistory;
import dev.kiln.core.schedules.ScheduleState;
import dev.kiln.core.schedules.ScheduleTimes;
import dev.kiln.store.DuplicateKeyException;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Create, read, replace and delete schedules, modeled on EventBridge Scheduler's operations. Each
 * change is one store transaction; the scheduler is told after every committed change so it can
 * re-plan its sleep.
 *
 * <p>A schedule invokes a function of its own account, which must exist when the schedule is
 * created or updated; deleting the function deletes its schedules (simpler and less surprising
 * than EventBridge's schedules that outlive their target and fail on every run).
 */
public final class Schedules {
  public static final int MAX_NAME_LENGTH = 64;
  public static final int MAX_DESCRIPTION_LENGTH = 512;
  public static final int MAX_TIMEZONE_LENGTH = 50;
  /** EventBridge's event size limit, well inside Lambda's limit for asynchronous payloads. */
  public static final int MAX_INPUT_BYTES = 256 * 1024;
  public static final int MAX_RESULTS = 100;

  private static final Pattern NAME = Pattern.compile("[0-9a-zA-Z-_.]+");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final MetadataStore store;
  private final ControlPlane control;
  private final Clock clock;
  private final Runnable onChange;

  /** {@code onChange} runs after every committed change, outside the transaction. */
  public Schedules(MetadataStore store, ControlPlane control, Clock clock, Runnable onChange) {
    this.store = store;
    this.control = control;
    this.clock = clock;
    this.onChange = onChange;
  }

  public String arn(String account, String name) {
    return ScheduleEvents.scheduleArn(control.region(), account, name);
  }

  /** The ARN of the function (and qualifier) a schedule invokes. */
  public String targetArn(ScheduleDefinition definition) {
    return control.arn(definition.account(), definition.functionName(), definition.qualifier());
  }

  public Schedule create(String account, ScheduleRequest request) {
    var checked = check(account, request);
    Instant now = now();
    var definition = checked.definition(account, now, now, now);
    var times = ScheduleTimes.of(definition);
    Instant first = times.firstAtOrAfter(now);
    if (first == null) {
      throw neverRuns(definition, checked.expression());
    }
    Instant next = definition.state() == ScheduleState.ENABLED ? first : null;
    var schedule = new Schedule(definition, next, next == null ? null : times.runAt(next), 0, ScheduleHistory.NONE, 0);
    store.write(tx -> {
      requireFunction(tx, account, checked.target());
      try {
        tx.schedules().insert(schedule);
      } catch (DuplicateKeyException e) {
        throw conflict("Schedule " + request.name() + " already exists. Choose another name, or change it with "
            + "UpdateSchedule (PUT /kiln/v1/schedules/" + request.name() + ").");
      }
      return null;
    });
    onChange.run();
    return schedule;
  }

  public Schedule get(String account, String name) {
    requireName(name);
    return store.read(tx -> tx.schedules().schedule(account, name)).orElseThrow(() -> scheduleNotFound(account, name));
  }

  /** Schedules by name; {@code nextToken} is the one a previous page returned. */
  public Page<Schedule> list(String account, String namePrefix, String state, String nextToken, Integer maxResults) {
    int limit = maxResults == null ? MAX_RESULTS : maxResults;
    if (limit < 1 || limit > MAX_RESULTS) {
      throw invalid("MaxResults must be from 1 to " + MAX_RESULTS + ", not " + limit + ".");
    }
    if (namePrefix != null && (namePrefix.length() > MAX_NAME_LENGTH || !NAME.matcher(namePrefix).matches())) {
      throw invalid("NamePrefix must be 1-64 letters, digits, '-', '_' or '.', not '" + namePrefix + "'.");
    }
    var stateFilter = state == null ? null : state(state);
    var page = store.read(tx -> tx.schedules().schedules(account, namePrefix, stateFilter, nextToken, limit + 1));
    if (page.size() <= limit) {
      return new Page<>(page, null);
    }
    var items = page.subList(0, limit);
    return new Page<>(items, items.getLast().definition().name());
  }

  /** Replaces the whole schedule, as EventBridge's UpdateSchedule does: members left out take their defaults. */
  public Schedule update(String account, ScheduleRequest request) {
    var checked = check(account, request);
    Instant now = now();
    var updated = store.write(tx -> {
      // The function first, then the schedule: the order in which deleting a function locks them.
      requireFunction(tx, account, checked.target());
      var existing = tx.schedules().schedule(account, request.name())
          .orElseThrow(() -> scheduleNotFound(account, request.name()));
      var old = existing.definition();
      boolean sameStart = old.expression().equals(checked.expression().text())
          && java.util.Objects.equals(old.startDate(), request.startDate());
      var definition = checked.definition(account, old.createdAt(), now, sameStart ? old.timingSince() : now);
      if (definition.sameTiming(old)) {
        tx.schedules().updateDefinition(definition);
        return new Schedule(definition, existing.nextOccurrence(), existing.dueAt(), existing.attempts(),
            existing.history(), existing.timingRevision());
      }
      var times = ScheduleTimes.of(definition);
      Instant next = definition.state() == ScheduleState.ENABLED ? times.firstAtOrAfter(now) : null;
      Instant due = next == null ? null : times.runAt(next);
      tx.schedules().reschedule(definition, next, due);
      return new Schedule(definition, next, due, 0, existing.history(), existing.timingRevision() + 1);
    });
    onChange.run();
    return updated;
  }

  public void delete(String account, String name) {
    requireName(name);
    boolean deleted = store.write(tx -> tx.schedules().delete(account, name));
    if (!deleted) {
      throw scheduleNotFound(account, name);
    }
    onChange.run();
  }

  // ---- checks --------------------------------------------------------------------------------

  /** A request whose every member passed its checks. */
  private record Checked(ScheduleRequest request, ScheduleExpression expression, String timezone,
      ScheduleState state, FlexibleTimeWindow window, FunctionRef target) {

    ScheduleDefinition definition(String account, Instant created, Instant modified, Instant timingSince) {
      return new ScheduleDefinition(account, request.name(), expression.text(), timezone, request.startDate(),
          request.endDate(), state, window, target.name(), target.qualifier().orElse(null), request.input(),
          request.description(), created, modified, timingSince);
    }
  }

  private Checked check(String account, ScheduleRequest request) {
    requireName(request.name());
    if (request.description() != null && request.description().length() > MAX_DESCRIPTION_LENGTH) {
      throw invalid("Description must be at most " + MAX_DESCRIPTION_LENGTH + " characters long.");
    }
    var expression = ScheduleExpression.parse(request.expression());
    String timezone = timezone(request.timezone());
    if (request.startDate() != null && request.endDate() != null && !request.endDate().isAfter(request.startDate())) {
      throw invalid("EndDate (" + request.endDate() + ") must be after StartDate (" + request.startDate() + ").");
    }
    var state = request.state() == null ? ScheduleState.ENABLED : state(request.state());
    var window = window(request.flexibleMode(), request.maximumWindowInMinutes());
    var target = target(account, request.targetArn());
    checkInput(account, request);
    // A missing version or alias is a 404, as Invoke would answer.
    control.getConfiguration(account, target);
    return new Checked(request, expression, timezone, state, window, target);
  }

  private static void requireName(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH || !NAME.matcher(name).matches()) {
      throw invalid("1 validation error detected: Value '" + name + "' at 'name' failed to satisfy constraint: "
          + "Member must be 1-64 letters, digits, '-', '_' or '.' (pattern [0-9a-zA-Z-_.]+).");
    }
  }

  private static String timezone(String raw) {
    if (raw == null) {
      return ScheduleDefinition.DEFAULT_TIMEZONE;
    }
    if (raw.isEmpty() || raw.length() > MAX_TIMEZONE_LENGTH) {
      throw invalid("ScheduleExpressionTimezone must be 1-" + MAX_TIMEZONE_LENGTH + " characters long.");
    }
    try {
      ZoneId.of(raw);
      return raw;
    } catch (DateTimeException e) {
      throw invalid("ScheduleExpressionTimezone '" + raw + "' is not a time zone: use an IANA name such as "
          + "America/New_York or Europe/Berlin, or UTC.");
    }
  }

  private static ScheduleState state(String raw) {
    try {
      return ScheduleState.valueOf(raw);
    } catch (IllegalArgumentException e) {
      throw invalid("State must be ENABLED or DISABLED, not '" + raw + "'.");
    }
  }

  private static FlexibleTimeWindow window(String mode, Integer maximumWindowInMinutes) {
    if (mode == null && maximumWindowInMinutes == null) {
      return FlexibleTimeWindow.OFF;
    }
    FlexibleTimeWindow.Mode parsed = null;
    if (mode != null) {
      try {
        parsed = FlexibleTimeWindow.Mode.valueOf(mode);
      } catch (IllegalArgumentException e) {
        throw invalid("FlexibleTimeWindow.Mode must be OFF or FLEXIBLE, not '" + mode + "'.");
      }
    }
    return new FlexibleTimeWindow(parsed, maximumWindowInMinutes);
  }

  private static FunctionRef target(String account, String targetArn) {
    if (targetArn == null || targetArn.isEmpty()) {
      throw invalid("Target.Arn must name the function to invoke: its name, partial ARN or ARN, with an optional "
          + ":version or :alias.");
    }
    FunctionRef ref;
    try {
      ref = FunctionRef.parse(targetArn, null);
    } catch (KilnException e) {
      throw invalid("Target.Arn '" + targetArn + "' does not name a function: " + e.getMessage());
    }
    if (ref.account().isPresent() && !ref.account().get().equals(account)) {
      throw new KilnException(ErrorCode.AccessDeniedException, "Target.Arn names a function of another account ("
          + ref.account().get() + "); a schedule can only invoke functions of its own account.");
    }
    return ref;
  }

  /** Input must be one JSON document, once its context attributes are filled in, as Lambda requires. */
  private void checkInput(String account, ScheduleRequest request) {
    String input = request.input();
    if (input == null) {
      return;
    }
    if (input.isEmpty()) {
      throw invalid("Target.Input must not be empty; leave it out to send the default scheduled event.");
    }
    if (input.getBytes(StandardCharsets.UTF_8).length > MAX_INPUT_BYTES) {
      throw invalid("Target.Input must be at most " + MAX_INPUT_BYTES + " bytes.");
    }
    String sample = ScheduleEvents.render(input, arn(account, request.name()), now(), "0123456789abcdef", 1);
    try (var parser = JSON.createParser(sample)) {
      if (parser.nextToken() == null) {
        throw invalid("Target.Input must be a JSON document.");
      }
      parser.skipChildren();
      if (parser.nextToken() != null) {
        throw invalid("Target.Input must be one JSON document, not several.");
      }
    } catch (JacksonException e) {
      throw invalid("Target.Input must be a JSON document, as Lambda requires (context attributes such as "
          + ScheduleEvents.ATTEMPT_NUMBER + " may stand in place of a value): " + e.getOriginalMessage());
    }
  }

  private static void requireFunction(StoreTransaction tx, String account, FunctionRef target) {
    // Locks the function's row, so it cannot be deleted before the schedule is stored.
    if (tx.function(account, target.name()).isEmpty()) {
      throw notFound("Function not found: " + target.name() + ". Create it before scheduling it.");
    }
  }

  private KilnException neverRuns(ScheduleDefinition definition, ScheduleExpression expression) {
    if (expression instanceof ScheduleExpression.At) {
      return invalid("The time of " + expression.text() + " in " + definition.timezone()
          + " has passed; choose a time in the future.");
    }
    return invalid(expression.text() + " has no occurrence " + (definition.endDate() == null ? "in the future"
        : "between now and EndDate " + definition.endDate()) + ", so the schedule would never run.");
  }

  private KilnException scheduleNotFound(String account, String name) {
    return notFound("Schedule not found: " + arn(account, name) + ". List your schedules with GET /kiln/v1/schedules "
        + "or `kiln schedules list`.");
  }

  private Instant now() {
    // Milliseconds, as the store keeps them: a rate counted from here stays on whole milliseconds.
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }
}
