// The fake transport lives in the package now (drover/testing); the project's tests use the same one.
export * from '../../lib/testing/fake-transport.ts';
