package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Handlers named as Class::method. */
public class Methods {
  private int calls;

  public static String shout(String text) {
    return text.toUpperCase();
  }

  public Map<String, Object> describe(Map<String, Object> event, Context context) {
    Map<String, Object> result = new LinkedHashMap<>(event);
    result.put("calls", ++calls);
    result.put("function", context.getFunctionName());
    return result;
  }

  /** Overloads: the one with a trailing Context wins. */
  public String overloaded(String s) {
    return "without context";
  }

  public String overloaded(String s, Context context) {
    return "with context";
  }

  public void copy(InputStream in, OutputStream out) throws IOException {
    in.transferTo(out);
  }

  public static List<Greeting> pojoList(List<Greeting> greetings) {
    return greetings;
  }

  public static void nothing(Map<String, Object> event) {
    // returns nothing
  }

  public static String fail(Map<String, Object> event) {
    return Helper.check(event);
  }

  static final class Helper {
    static String check(Map<String, Object> event) {
      throw new IllegalStateException("state is " + event.get("state"));
    }
  }
}
