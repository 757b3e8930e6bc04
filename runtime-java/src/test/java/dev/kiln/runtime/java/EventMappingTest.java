package dev.kiln.runtime.java;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.SNSEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Lambda's event JSON (as the AWS documentation shows it) into aws-lambda-java-events classes. */
class EventMappingTest {
  private final JacksonSupport jackson = new JacksonSupport(getClass().getClassLoader());

  private <T> T read(String json, Class<T> type) throws Exception {
    return type.cast(jackson.reader(type).read(json.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void sqs() throws Exception {
    SQSEvent event = read("""
        {"Records":[{"messageId":"19dd0b57-b21e-4ac1-bd88-01bbb068cb78","receiptHandle":"MessageReceiptHandle",
          "body":"Hello from SQS!","attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1523232000000"},
          "messageAttributes":{"n":{"stringValue":"1","binaryValue":"AQID","dataType":"Number"}},
          "md5OfBody":"7b270e59b47ff90a553787216d55d91d","eventSource":"aws:sqs",
          "eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:MyQueue","awsRegion":"us-east-1"}]}
        """, SQSEvent.class);
    SQSEvent.SQSMessage m = event.getRecords().get(0);
    assertThat(m.getMessageId()).isEqualTo("19dd0b57-b21e-4ac1-bd88-01bbb068cb78");
    assertThat(m.getBody()).isEqualTo("Hello from SQS!");
    assertThat(m.getEventSourceArn()).isEqualTo("arn:aws:sqs:us-east-1:123456789012:MyQueue");
    assertThat(m.getAttributes()).containsEntry("ApproximateReceiveCount", "1");
    assertThat(m.getMessageAttributes().get("n").getBinaryValue().array()).containsExactly(1, 2, 3);
    assertThat(m.getMd5OfBody()).isEqualTo("7b270e59b47ff90a553787216d55d91d");
  }

  @Test
  void scheduledEventWithJodaTime() throws Exception {
    ScheduledEvent event = read("""
        {"version":"0","id":"89d1a02d-5ec7-412e-82f5-13505f849b41","detail-type":"Scheduled Event",
         "source":"aws.events","account":"123456789012","time":"2016-12-30T18:44:49Z","region":"us-east-1",
         "resources":["arn:aws:events:us-east-1:123456789012:rule/SampleRule"],"detail":{}}
        """, ScheduledEvent.class);
    assertThat(event.getDetailType()).isEqualTo("Scheduled Event");
    assertThat(event.getTime().getMillis()).isEqualTo(1483123489000L);
    assertThat(event.getResources()).containsExactly("arn:aws:events:us-east-1:123456789012:rule/SampleRule");
  }

  @Test
  void snsWithUpperCaseNames() throws Exception {
    SNSEvent event = read("""
        {"Records":[{"EventVersion":"1.0","EventSubscriptionArn":"arn:aws:sns:us-east-1:123456789012:sns-lambda:21be56ed",
          "EventSource":"aws:sns","Sns":{"SignatureVersion":"1","Timestamp":"2019-01-02T12:45:07.000Z",
          "Signature":"tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
          "MessageId":"95df01b4-ee98-5cb9-9903-4c221d41eb5e","Message":"Hello from SNS!",
          "MessageAttributes":{"Test":{"Type":"String","Value":"TestString"}},
          "Type":"Notification","TopicArn":"arn:aws:sns:us-east-1:123456789012:sns-lambda","Subject":"TestInvoke"}}]}
        """, SNSEvent.class);
    SNSEvent.SNS sns = event.getRecords().get(0).getSNS();
    assertThat(sns.getMessage()).isEqualTo("Hello from SNS!");
    assertThat(sns.getTopicArn()).isEqualTo("arn:aws:sns:us-east-1:123456789012:sns-lambda");
    assertThat(sns.getMessageAttributes().get("Test").getValue()).isEqualTo("TestString");
    assertThat(sns.getTimestamp().getYear()).isEqualTo(2019);
    assertThat(event.getRecords().get(0).getEventSubscriptionArn()).endsWith(":21be56ed");
  }

  @Test
  void kinesisDataIsBase64() throws Exception {
    KinesisEvent event = read("""
        {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1",
          "sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
          "approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventVersion":"1.0",
          "eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
          "eventName":"aws:kinesis:record","awsRegion":"us-east-2",
          "eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}
        """, KinesisEvent.class);
    KinesisEvent.KinesisEventRecord r = event.getRecords().get(0);
    assertThat(StandardCharsets.UTF_8.decode(r.getKinesis().getData()).toString()).isEqualTo("Hello, this is a test.");
    assertThat(r.getEventSourceARN()).endsWith("stream/lambda-stream");
    assertThat(r.getKinesis().getApproximateArrivalTimestamp().getTime()).isEqualTo(1545084650987L);
  }

  @Test
  void epochSecondsAndMillis() {
    assertThat(JacksonSupport.epochDate(1479499740, false).getTime()).isEqualTo(1479499740000L);
    assertThat(JacksonSupport.epochDate(1479499740123L, false).getTime()).isEqualTo(1479499740123L);
    assertThat(JacksonSupport.epochDate(1545084650.987, true).getTime()).isEqualTo(1545084650987L);
  }

  @Test
  void apiGatewayRequestAndResponse() throws Exception {
    APIGatewayProxyRequestEvent request = read("""
        {"resource":"/","path":"/","httpMethod":"GET","headers":{"Host":"x"},"multiValueHeaders":{"Host":["x"]},
         "queryStringParameters":{"a":"1"},"requestContext":{"requestTimeEpoch":1583798639428,
           "identity":{"sourceIp":"10.0.0.1"},"httpMethod":"GET","stage":"prod"},"body":null,"isBase64Encoded":false}
        """, APIGatewayProxyRequestEvent.class);
    assertThat(request.getHttpMethod()).isEqualTo("GET");
    assertThat(request.getQueryStringParameters()).containsEntry("a", "1");
    assertThat(request.getRequestContext().getIdentity().getSourceIp()).isEqualTo("10.0.0.1");
    assertThat(request.getIsBase64Encoded()).isFalse();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    jackson.write(new APIGatewayProxyResponseEvent().withStatusCode(200).withBody("ok")
        .withIsBase64Encoded(false), out);
    assertThat(Json.parse(out.toString(StandardCharsets.UTF_8)))
        .isEqualTo(Map.of("statusCode", 200, "body", "ok", "isBase64Encoded", false));
  }

  @Test
  void httpApiPayloadV2() throws Exception {
    APIGatewayV2HTTPEvent event = read("""
        {"version":"2.0","routeKey":"$default","rawPath":"/my/path","rawQueryString":"a=1","cookies":["c=1"],
         "headers":{"h":"v"},"requestContext":{"http":{"method":"POST","path":"/my/path","sourceIp":"1.2.3.4"},
           "timeEpoch":1583348638390},"body":"Hello","isBase64Encoded":false}
        """, APIGatewayV2HTTPEvent.class);
    assertThat(event.getRawPath()).isEqualTo("/my/path");
    assertThat(event.getRequestContext().getHttp().getMethod()).isEqualTo("POST");
    assertThat(event.getCookies()).containsExactly("c=1");
  }

  @Test
  void lenientNames() {
    assertThat(JacksonSupport.LenientNames.separated("detailType", '-')).isEqualTo("detail-type");
    assertThat(JacksonSupport.LenientNames.separated("eventSourceARN", '-')).isEqualTo("event-source-arn");
    assertThat(JacksonSupport.LenientNames.separated("plain", '-')).isNull();
  }
}
