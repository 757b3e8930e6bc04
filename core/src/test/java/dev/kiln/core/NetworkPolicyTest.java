package dev.kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NetworkPolicyTest {
  @Test
  void readsKeywordsRangesAndPorts() {
    assertThat(NetworkPolicy.parse("none").none()).isTrue();
    assertThat(NetworkPolicy.parse(" internet ")).isEqualTo(NetworkPolicy.INTERNET);
    var policy = NetworkPolicy.parse("internet, 10.0.0.0/8,203.0.113.7:8080,198.51.100.0/24:53,127.0.0.1:5432");
    assertThat(policy.internet()).isTrue();
    assertThat(policy.destinations()).extracting(Object::toString)
        .containsExactly("10.0.0.0/8", "203.0.113.7/32:8080", "198.51.100.0/24:53", "127.0.0.1/32:5432");
    assertThat(policy.destinations().getLast().loopback()).isTrue();
    assertThat(NetworkPolicy.parse("0.0.0.0/0").destinations().getFirst().cidr()).isEqualTo("0.0.0.0/0");
    // the same range on different ports, or with and without a port, is fine
    assertThat(NetworkPolicy.parse("10.0.0.5:80,10.0.0.0/24:443,10.0.0.0/24").destinations()).hasSize(3);
    assertThat(NetworkPolicy.of(Map.of())).isEmpty();
    assertThat(NetworkPolicy.of(Map.of("KILN_NETWORK", "none"))).contains(NetworkPolicy.NONE);
  }

  @Test
  void refusesWhatItCannotEnforceNamingTheVariable() {
    for (var bad : List.of("", "all", "none,internet", "10.0.0.1/33", "10.0.0.1/24", "300.1.1.1", "1.2.3.4:0",
        "1.2.3.4:70000", "::1", "[::1]:80", "127.0.0.1", "127.0.0.0/8:5432", "internet,,", "host.example:80", "10.0.0.0/8,10.1.0.0/16",
        "10.0.0.5:80,10.0.0.0/24:80", "1.2.3.4,1.2.3.4")) {
      assertThatThrownBy(() -> NetworkPolicy.parse(bad)).as(bad)
          .isInstanceOfSatisfying(KilnException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.InvalidParameterValueException))
          .hasMessageContaining("KILN_NETWORK");
    }
    assertThatThrownBy(() -> EnvironmentModes.of(Map.of("KILN_NETWORK", "everywhere")))
        .hasMessageContaining("KILN_NETWORK");
  }
}
