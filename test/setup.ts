// Runs before every test file: starts the TensorFlow.js backend once.
import { initBackend } from "../src/backend.js";

await initBackend();
