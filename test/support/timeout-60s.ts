// Jest 29 has no per-project testTimeout; this applies to every test and hook in the project.
jest.setTimeout(60_000);
