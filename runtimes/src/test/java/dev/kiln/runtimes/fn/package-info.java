/**
 * Java test functions, written as users write them against aws-lambda-java-core and aws-lambda-java-events.
 * Tests copy their compiled classes into a function code directory (classes + lib/, or a fat jar); the runtime
 * loads them from there, never from the test class path.
 */
package dev.kiln.runtimes.fn;
