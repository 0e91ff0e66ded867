export { Module, Sequential, Parameter, StateBuffer, type StateDict } from './module.js';
export * from './layers.js';
export * as init from './init.js';
export { watchReLUs, type ReLUStat } from './relu-stats.js';
