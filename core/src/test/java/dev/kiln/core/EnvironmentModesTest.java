package dev.kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvironmentModesTest {
  @Test
  void noVariablesMeanToday() {
    assertThat(EnvironmentModes.of(Map.of("OTHER", "x"))).isSameAs(EnvironmentModes.DEFAULT);
  }

  @Test
  void readsEveryVariable() {
    var modes = EnvironmentModes.of(Map.of("KILN_ENVIRONMENT_REUSE", "per-tenant", "KILN_RESET_ABOVE_MB", "100",
        "KILN_RETRY_MAX_ATTEMPTS", "3", "KILN_RETRY_SUCCESS", "{\"status\":[\"ok\"]}"));
    assertThat(modes.perTenant()).isTrue();
    assertThat(modes.resetAboveMb()).isEqualTo(100);
    assertThat(modes.retryMaxAttempts()).isEqualTo(3);
    assertThat(modes.retryConfigured()).isTrue();
    assertThat(modes.retrySuccessPattern()).isEqualTo("{\"status\":[\"ok\"]}");
    assertThat(EnvironmentModes.of(Map.of("KILN_ENVIRONMENT_REUSE", "per-request")).singleUse()).isTrue();
  }

  @Test
  void refusesBadValuesNamingTheVariable() {
    for (var bad : java.util.List.of(Map.of("KILN_ENVIRONMENT_REUSE", "never"), Map.of("KILN_RESET_ABOVE_MB", "0"),
        Map.of("KILN_RESET_ABOVE_MB", "10241"), Map.of("KILN_RETRY_MAX_ATTEMPTS", "11"),
        Map.of("KILN_RETRY_MAX_ATTEMPTS", "two"), Map.of("KILN_RETRY_SUCCESS", "{\"a\":[1]}"),
        Map.of("KILN_SECCOMP_PROFILE", "strict"))) {
      assertThatThrownBy(() -> EnvironmentModes.of(bad)).as("%s", bad)
          .isInstanceOfSatisfying(KilnException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.InvalidParameterValueException))
          .hasMessageContaining(bad.keySet().iterator().next());
    }
  }

  @Test
  void readsTheSyscallProfileMode() {
    assertThat(SyscallProfileMode.of(Map.of())).isEqualTo(SyscallProfileMode.OFF);
    assertThat(SyscallProfileMode.of(Map.of("KILN_SECCOMP_PROFILE", "learn"))).isEqualTo(SyscallProfileMode.LEARN);
    assertThat(SyscallProfileMode.of(Map.of("KILN_SECCOMP_PROFILE", "enforce")))
        .isEqualTo(SyscallProfileMode.ENFORCE);
    assertThat(EnvironmentModes.of(Map.of("KILN_SECCOMP_PROFILE", "learn"))).isSameAs(EnvironmentModes.DEFAULT);
  }
}
