package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PostgresTestDatabaseTest {
  @Test
  void replacesTheDatabaseAndKeepsTheParameters() {
    assertThat(PostgresTestDatabase.withDatabase("jdbc:postgresql://127.0.0.1:55432/postgres", "t"))
        .isEqualTo("jdbc:postgresql://127.0.0.1:55432/t");
    assertThat(PostgresTestDatabase.withDatabase("jdbc:postgresql://db:5432/postgres?sslmode=disable", "t"))
        .isEqualTo("jdbc:postgresql://db:5432/t?sslmode=disable");
    assertThat(PostgresTestDatabase.withDatabase("jdbc:postgresql://db:5432/", "t")).isEqualTo("jdbc:postgresql://db:5432/t");
    assertThat(PostgresTestDatabase.withDatabase("jdbc:postgresql://db", "t")).isEqualTo("jdbc:postgresql://db/t");
    assertThat(PostgresTestDatabase.withDatabase("jdbc:postgresql://db?user=x", "t"))
        .isEqualTo("jdbc:postgresql://db/t?user=x");
  }

  @Test
  void rejectsOtherUrls() {
    assertThatThrownBy(() -> PostgresTestDatabase.withDatabase("jdbc:sqlite:x.db", "t"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
