import { startDynamoDbLocal } from '../../local/dynamodb-local';

/** One in-memory DynamoDB Local for the whole suite; each test file uses its own table. */
export default async function globalSetup(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  process.env.CLOSELOOP_TEST_DYNAMODB = dynamo.endpoint;
  (globalThis as { __closeloopDynamo?: typeof dynamo }).__closeloopDynamo = dynamo;
}
