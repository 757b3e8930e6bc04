package dev.kiln.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import org.junit.jupiter.api.Test;

class RouterTest {
  private final Operation list = call -> ApiReply.noContent();
  private final Operation get = call -> ApiReply.noContent();
  private final Operation tags = call -> ApiReply.noContent();
  private final Router router = new Router()
      .add("GET", "/2015-03-31/functions", list)
      .add("GET", "/2015-03-31/functions/{FunctionName}", get)
      .add("GET", "/2017-03-31/tags/{ARN}", tags);

  @Test
  void ignoresATrailingSlashAsLambdaDoes() {
    assertThat(router.match("GET", "/2015-03-31/functions/").route().operation()).isSameAs(list);
    assertThat(router.match("GET", "/2015-03-31/functions").route().operation()).isSameAs(list);
  }

  @Test
  void decodesParametersOnceSoEncodedArnsArriveIntact() {
    var match = router.match("GET", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af");
    assertThat(match.params()).containsEntry("ARN", "arn:aws:lambda:us-east-1:123456789012:function:f");
    assertThat(router.match("GET", "/2015-03-31/functions/f%3A%24LATEST").params())
        .containsEntry("FunctionName", "f:$LATEST");
    assertThat(router.match("GET", "/2015-03-31/functions/a+b").params()).containsEntry("FunctionName", "a+b");
  }

  @Test
  void unknownPathsAndMethodsAreUnknownOperations() {
    assertThatThrownBy(() -> router.match("GET", "/nothing/here"))
        .isInstanceOfSatisfying(KilnException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.UnknownOperationException));
    assertThatThrownBy(() -> router.match("PATCH", "/2015-03-31/functions"))
        .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.getMessage()).contains("not supported"));
  }
}
