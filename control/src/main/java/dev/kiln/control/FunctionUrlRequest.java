package dev.kiln.control;

import dev.kiln.core.FunctionUrlConfig;

/**
 * The members of a Create- or UpdateFunctionUrlConfig request as the client sent them; null where
 * a member was left out. The enums stay text so a wrong value can be named in the error.
 */
public record FunctionUrlRequest(String authType, FunctionUrlConfig.Cors cors, String invokeMode) {}
