package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.SyscallProfileMode;
import dev.kiln.worker.SyscallProfiles;
import dev.kiln.worker.Worker;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * {@code GET /kiln/v1/functions/{name}/seccomp-profile}: the system calls Kiln learned of a function of the caller's
 * account ({@value SyscallProfileMode#VARIABLE}{@code =learn}) and the mode its latest configuration asks for.
 */
final class SyscallProfileRoutes {
  private final ControlPlane control;
  private final Worker worker;

  SyscallProfileRoutes(ControlPlane control, Worker worker) {
    this.control = control;
    this.worker = worker;
  }

  void register(Router router) {
    router.add("GET", "/kiln/v1/functions/{FunctionName}/seccomp-profile", this::profile);
  }

  private ApiReply profile(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    // Proves the function exists in the caller's account before anything of it is read.
    var configuration = control.getConfiguration(call.account(), ref);
    var profiles = worker.syscallProfiles();
    var learned = profiles == null ? java.util.Optional.<java.util.SortedSet<String>>empty()
        : profiles.profile(call.account(), ref.name());
    var doc = new LinkedHashMap<String, Object>();
    doc.put("FunctionName", ref.name());
    doc.put("Mode", SyscallProfileMode.of(configuration.environment()).name().toLowerCase(java.util.Locale.ROOT));
    doc.put("Learned", learned.isPresent());
    doc.put("TrainingInvocations", SyscallProfiles.TRAINING_INVOCATIONS);
    doc.put("Syscalls", learned.map(List::copyOf).orElse(List.of()));
    return ApiReply.ok(doc);
  }
}
