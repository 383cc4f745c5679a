import { createOperator } from 'maestro-operator';
import { GreetingReconciler } from './greeting.js';

await createOperator({ name: 'greeting-operator', reconcilers: [GreetingReconciler] }).start();
