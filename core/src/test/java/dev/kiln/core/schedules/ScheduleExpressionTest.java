package dev.kiln.core.schedules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.time.Duration;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScheduleExpressionTest {

  @ParameterizedTest
  @CsvSource({
    "rate(1 minute), PT1M",
    "rate(5 minutes), PT5M",
    "rate(1 hour), PT1H",
    "rate(12 hours), PT12H",
    "rate(1 day), PT24H",
    "rate(7 days), PT168H",
    "'  rate( 15   minutes )  ', PT15M",
  })
  void rates(String text, Duration period) {
    var rate = (ScheduleExpression.Rate) ScheduleExpression.parse(text);
    assertThat(rate.period()).isEqualTo(period);
    assertThat(rate.text()).isEqualTo(text);
  }

  @Test
  void rateUnitsFollowTheValueInNumber() {
    assertInvalid("rate(1 minutes)", "singular unit: rate(1 minute)");
    assertInvalid("rate(1 days)", "singular unit: rate(1 day)");
    assertInvalid("rate(5 minute)", "plural unit: rate(5 minutes)");
    assertInvalid("rate(2 hour)", "plural unit: rate(2 hours)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"rate(0 minutes)", "rate(-5 minutes)", "rate(1.5 hours)", "rate(minutes)", "rate()",
      "rate(5)", "rate(5 weeks)", "rate(5 Minutes)", "rate(99999999999999999999 minutes)", "rate(100000 days)"})
  void badRates(String text) {
    assertThatThrownBy(() -> ScheduleExpression.parse(text))
        .isInstanceOf(KilnException.class)
        .hasMessageStartingWith("Invalid ScheduleExpression '" + text + "': ");
  }

  @Test
  void oneTimeSchedules() {
    var at = (ScheduleExpression.At) ScheduleExpression.parse("at(2030-01-31T08:15:30)");
    assertThat(at.time()).isEqualTo(LocalDateTime.of(2030, 1, 31, 8, 15, 30));
    assertInvalid("at(2030-02-30T08:00:00)", "'2030-02-30T08:00:00' is not a valid date and time");
    assertInvalid("at(2030-01-31 08:00:00)", "at(yyyy-mm-ddThh:mm:ss)");
    assertInvalid("at(2030-01-31T08:00)", "at(yyyy-mm-ddThh:mm:ss)");
    assertInvalid("at(2030-01-31T08:00:00Z)", "in the schedule's time zone");
    assertInvalid("at(2200-01-01T00:00:00)", "the year must be from 1970 to 2199");
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "cron(0 12 * * ? *)", "cron(0/15 * * * ? *)", "cron(*/5 8-17 ? * MON-FRI *)", "cron(0 18 ? * 2-6 *)",
    "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 15W * ? *)", "cron(0 10 ? * 6#3 *)",
    "cron(0 10 ? * FRI#3 *)", "cron(0 10 ? * 6L *)", "cron(0 10 ? * L *)", "cron(0 0 1 JAN,jul ? *)",
    "cron(15,45 1,13 1-7 * ? 2026-2030)", "cron(0 0 1 */3 ? */2)", "cron(59 23 31 DEC ? 2199)",
    "cron(0 8 ? * SUN,SAT *)", "cron(0 8 ? * 1,7 *)", "cron(5-55/10 * * * ? *)",
  })
  void validCrons(String text) {
    assertThat(ScheduleExpression.parse(text)).isInstanceOf(ScheduleExpression.Cron.class);
  }

  @Test
  void cronErrorsNameTheFieldAtFault() {
    assertInvalid("cron(0 12 * * ?)", "6 fields (minutes hours day-of-month month day-of-week year), this one has 5");
    assertInvalid("cron(0 0 12 * * ? *)", "this one has 7");
    assertInvalid("cron(0 12 * * * *)", "day-of-month ('*') and day-of-week ('*') cannot both be given");
    assertInvalid("cron(0 12 ? * ? *)", "cannot both be '?'");
    assertInvalid("cron(60 12 * * ? *)", "the minutes field '60' is invalid: 60 is out of range; use a number from 0 to 59");
    assertInvalid("cron(0 24 * * ? *)", "the hours field '24' is invalid");
    assertInvalid("cron(0 12 32 * ? *)", "the day-of-month field '32' is invalid");
    assertInvalid("cron(0 12 0 * ? *)", "the day-of-month field '0' is invalid");
    assertInvalid("cron(0 12 * 13 ? *)", "the month field '13' is invalid");
    assertInvalid("cron(0 12 * FOO ? *)", "'FOO' is not a number from 1 to 12 or a name JAN-DEC");
    assertInvalid("cron(0 12 ? * 0 *)", "the day-of-week field '0' is invalid: 0 is out of range; use a number from 1 to 7 or a name SUN-SAT");
    assertInvalid("cron(0 12 ? * 8 *)", "the day-of-week field '8' is invalid");
    assertInvalid("cron(0 12 ? * MON/2 *)", "steps ('/') are not allowed in day-of-week");
    assertInvalid("cron(0 12 * * ? 1969)", "the year field '1969' is invalid");
    assertInvalid("cron(0 12 * * ? 2200)", "the year field '2200' is invalid");
    assertInvalid("cron(0/0 12 * * ? *)", "the step must be a number from 1 to 60, not '0'");
    assertInvalid("cron(50-10 12 * * ? *)", "the range 50-10 runs backwards");
    assertInvalid("cron(? 12 * * ? *)", "'?' is only allowed in day-of-month or day-of-week");
    assertInvalid("cron(1,,2 12 * * ? *)", "empty item");
    assertInvalid("cron(0 12 L,5 * ? *)", "L, LW and W stand alone");
    assertInvalid("cron(0 12 1-5W * ? *)", "L, LW and W stand alone");
    assertInvalid("cron(0 12 32W * ? *)", "the day must be a number from 1 to 31, not '32'");
    assertInvalid("cron(0 12 ? * 2W *)", "W is only for day-of-month");
    assertInvalid("cron(0 12 ? * 6#6 *)", "the week number after '#' must be a number from 1 to 5, not '6'");
    assertInvalid("cron(0 12 ? * 9#1 *)", "the day-of-week field '9#1' is invalid");
    assertInvalid("cron(0 12 ? * 9L *)", "the day-of-week field '9L' is invalid");
    assertInvalid("cron()", "this one has 0");
  }

  @ParameterizedTest
  @ValueSource(strings = {"every 5 minutes", "0 12 * * ? *", "cron 0 12 * * ? *", "RATE(5 minutes)", "rate(5 minutes",
      "at 2030-01-01T00:00:00"})
  void unknownForms(String text) {
    assertInvalid(text, "it must look like rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-31T08:00:00)");
  }

  @Test
  void emptyAndOverlongExpressions() {
    assertThatThrownBy(() -> ScheduleExpression.parse(null)).hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> ScheduleExpression.parse("  ")).hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> ScheduleExpression.parse("cron(" + "0,".repeat(200) + "0 12 * * ? *)"))
        .hasMessageContaining("at most 256 characters");
  }

  private static void assertInvalid(String text, String fragment) {
    assertThatThrownBy(() -> ScheduleExpression.parse(text))
        .isInstanceOfSatisfying(KilnException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.InvalidParameterValueException))
        .hasMessageStartingWith("Invalid ScheduleExpression '" + text + "': ")
        .hasMessageContaining(fragment);
  }
}
