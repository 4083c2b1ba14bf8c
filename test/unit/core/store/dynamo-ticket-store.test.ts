import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { SingleTable } from '@core/store/table';
import { ticketLabel } from '@core/tickets/model';

const doc = mockClient(DynamoDBDocumentClient);
afterEach(() => doc.reset());

// What a Lambda's ticket sync pays for a claim (its table sends every request alone).
describe('DynamoTicketStore claim, requests sent alone (mocked DynamoDB)', () => {
  it('claims and reads the record in one request that returns it, with no read after', async () => {
    const id = 'NHI-00000000000000AB';
    const record = {
      type: 'ticket',
      findingId: id,
      label: ticketLabel(id),
      sink: { kind: 'local' },
      leaseOwner: 'w',
      leaseUntil: '2026-11-01T00:05:00.000Z',
    };
    doc.on(UpdateCommand).resolves({ Attributes: record });
    const store = new DynamoTicketStore(new SingleTable(new DynamoDBClient({ region: 'us-east-1' }), 'closeloop'));
    const claimed = await store.claimTicket(id, { kind: 'local' }, 'w', '2026-11-01T00:00:00.000Z', record.leaseUntil);
    expect(claimed).toMatchObject({ findingId: id, leaseOwner: 'w' });
    expect(doc.commandCalls(UpdateCommand)[0]!.args[0].input.ReturnValues).toBe('ALL_NEW');
    expect(doc).toHaveReceivedCommandTimes(GetCommand, 0);
  });
});
