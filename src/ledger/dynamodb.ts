import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { HandoutError } from "../domain/errors.js";
import {
  DEFAULT_LIST_LIMIT,
  isSameShare,
  type ShareLedger,
  type ShareQuery,
  shareIdTaken,
} from "../domain/ledger.js";
import {
  LIVE_STATES,
  type NewShare,
  REPLACEABLE_STATES,
  REVOCABLE_STATES,
  type ShareAccess,
  type ShareMessage,
  type ShareMode,
  type ShareOpen,
  type ShareRecord,
  type ShareState,
  type Transition,
  unknownShare,
} from "../domain/share.js";

/*
 * Table layout: one item per share, partition key `id`. Three global secondary indexes, each projecting
 * the whole item:
 * - `bySharer` (sharerId, created): one person's shares, newest first.
 * - `byCreated` (kind, created): everyone's shares, newest first. `kind` is the same for every item, so
 *   the index has one partition; shares are written a few times a minute at most, far below the
 *   1,000 writes a second a partition takes.
 * - `byDue` (due, expiresAt): sparse. `due` is present only while the share is pending or active, so
 *   the scheduler's query reads exactly the live shares, soonest expiry first.
 * `created` is the ISO creation time, `#`, and the id: unique, and sorts like (createdAt, id).
 * `ttl` (epoch seconds) lets DynamoDB delete the item a retention period after the link expired.
 * Opens of members-only links are items of their own, `id` = `open#<share id>#<random>`, with none
 * of the indexes' attributes (so no index holds them), and the share's item lists their ids in
 * `openIds` in the order they were recorded, `opensTold` saying how many of those the sharer was told
 * of. The open's item is written before its id is appended, so every listed id has its item; the
 * list's ids (about 70 bytes each) keep a share's item under DynamoDB's 400 KB up to some 5,000 opens;
 * past that DynamoDB refuses the append, and the gate answers that it cannot check the link.
 * Index reads are eventually consistent: `list` and `dueForExpiry` may lag a change by a moment; every
 * state change is a conditional write on the item itself, so acting on a stale entry is refused, not
 * repeated.
 */
const BY_SHARER = "bySharer";
const BY_CREATED = "byCreated";
const BY_DUE = "byDue";
const KIND = "share";
const DUE = "due";

const DEFAULT_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

interface ShareItem {
  id: string;
  sharerId: string;
  keys: string[];
  channelId: string;
  mode: string;
  createdAt: string;
  expiresAt: string;
  state: string;
  message?: ShareMessage;
  failure?: string;
  revokedBy?: string;
  revokedAt?: string;
  replacedBy?: string;
  replaces?: string;
  note?: string;
  title?: string;
  announcementText?: string;
  expiryNotified: boolean;
  access?: string;
  notifyOpens?: boolean;
  openIds?: string[];
  opensTold?: number;
  created: string;
  kind: string;
  due?: string;
  ttl: number;
}

const toRecord = (item: ShareItem): ShareRecord => ({
  id: item.id,
  sharerId: item.sharerId,
  keys: item.keys,
  channelId: item.channelId,
  mode: item.mode as ShareMode,
  createdAt: new Date(item.createdAt),
  expiresAt: new Date(item.expiresAt),
  state: item.state as ShareState,
  message: item.message,
  failure: item.failure,
  revokedBy: item.revokedBy,
  revokedAt: item.revokedAt === undefined ? undefined : new Date(item.revokedAt),
  replacedBy: item.replacedBy,
  replaces: item.replaces,
  note: item.note,
  title: item.title,
  announcementText: item.announcementText,
  expiryNotified: item.expiryNotified,
  access: (item.access ?? "link") as ShareAccess,
  notifyOpens: item.notifyOpens === true,
});

interface OpenItem {
  id: string;
  shareId: string;
  fileIndex: number;
  key: string;
  userId: string;
  at: string;
  userAgent: string;
  ttl: number;
}

const toOpen = (item: OpenItem): ShareOpen => ({
  shareId: item.shareId,
  fileIndex: item.fileIndex,
  key: item.key,
  userId: item.userId,
  at: new Date(item.at),
  userAgent: item.userAgent,
});

const byTime = (a: ShareOpen, b: ShareOpen) => a.at.getTime() - b.at.getTime();

/**
 * Expressions name every attribute as `#name` (many plain names, such as state, keys and ttl, are
 * DynamoDB reserved words); this maps each one used to itself.
 */
const namesIn = (...expressions: (string | undefined)[]): Record<string, string> =>
  Object.fromEntries(
    expressions.flatMap((expression) =>
      [...(expression ?? "").matchAll(/#(\w+)/g)].map((match) => [match[0], match[1] as string]),
    ),
  );

const isConditionFailure = (error: unknown): boolean =>
  (error as Error).name === "ConditionalCheckFailedException";

/** `#state IN (:state0, …)` with its values. */
function stateCondition(states: readonly ShareState[]): {
  expression: string;
  values: Record<string, string>;
} {
  const values = Object.fromEntries(states.map((state, i) => [`:state${i}`, state]));
  return { expression: `#state IN (${Object.keys(values).join(", ")})`, values };
}

export interface DynamoDbLedgerOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days a share's item is kept after its link expired, before DynamoDB's TTL deletes it (default 90). */
  readonly retentionDays?: number;
  /** Items read per Query request; left to DynamoDB (1 MB pages) unless set. Tests set it to exercise paging. */
  readonly pageSize?: number;
}

/**
 * The ledger in a DynamoDB table (made with `createLedgerTable`), for several replicas or AWS Lambda.
 * The client belongs to the caller: `close` leaves it open.
 */
export function dynamoDbLedger(options: DynamoDbLedgerOptions): ShareLedger {
  const { tableName } = options;
  const retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
  const documents = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true },
  });

  const unavailable = (error: unknown): HandoutError => {
    const name = (error as Error).name;
    const fix =
      name === "ResourceNotFoundException"
        ? "create it (see createLedgerTable in src/ledger/dynamodb.ts)"
        : name === "AccessDeniedException"
          ? "allow dynamodb:GetItem, PutItem, UpdateItem and Query on the table and its indexes"
          : "check the network, AWS_REGION and credentials";
    return new HandoutError(
      "STORAGE_UNAVAILABLE",
      `Could not use the share ledger (DynamoDB table ${tableName}, ${name}): ${fix}.`,
      { cause: error },
    );
  };

  async function send<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      throw unavailable(error);
    }
  }

  async function get(id: string): Promise<ShareRecord | undefined> {
    const { Item } = await send(() =>
      documents.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true })),
    );
    return Item && toRecord(Item as ShareItem);
  }

  /** A conditional update: the new record when the condition held, else the record as it stands. */
  async function update(
    id: string,
    input: { change: string; condition: string; values?: Record<string, unknown> },
  ): Promise<Transition> {
    const UpdateExpression = input.change;
    const ConditionExpression = `attribute_exists(#id) AND (${input.condition})`;
    try {
      const { Attributes } = await send(() =>
        documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id },
            UpdateExpression,
            ConditionExpression,
            ExpressionAttributeNames: namesIn(UpdateExpression, ConditionExpression),
            ExpressionAttributeValues: input.values,
            ReturnValues: "ALL_NEW",
          }),
        ),
      );
      return { changed: true, share: toRecord(Attributes as ShareItem) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { changed: false, share: await get(id) };
    }
  }

  /** Runs a query page after page until `limit` items or the end. */
  async function query(input: Omit<QueryCommandInput, "TableName">, limit: number): Promise<ShareRecord[]> {
    const records: ShareRecord[] = [];
    let start: QueryCommandInput["ExclusiveStartKey"];
    do {
      const page = await send(() =>
        documents.send(
          new QueryCommand({
            ...input,
            TableName: tableName,
            ExclusiveStartKey: start,
            // Without a filter, every item read is kept: read no more than needed.
            Limit: options.pageSize ?? (input.FilterExpression ? undefined : limit - records.length),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (records.length < limit) records.push(toRecord(item as ShareItem));
      }
      start = page.LastEvaluatedKey;
    } while (start && records.length < limit);
    return records;
  }

  const live = stateCondition(LIVE_STATES);

  async function shareItem(id: string): Promise<ShareItem | undefined> {
    const { Item } = await send(() =>
      documents.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true })),
    );
    return Item as ShareItem | undefined;
  }

  /**
   * The open items with these ids, in the order given. Plain reads, 25 at a time, rather than
   * BatchGetItem: the IAM policy Handout documents allows GetItem, and a share is opened a few times.
   */
  async function openItems(ids: readonly string[]): Promise<ShareOpen[]> {
    const opens: ShareOpen[] = [];
    for (let start = 0; start < ids.length; start += 25) {
      const items = await Promise.all(
        ids.slice(start, start + 25).map(async (id) => {
          const { Item } = await send(() =>
            documents.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true })),
          );
          return Item as OpenItem | undefined;
        }),
      );
      for (const item of items) if (item) opens.push(toOpen(item));
    }
    return opens;
  }

  return {
    async record(share: NewShare) {
      const createdAt = share.createdAt.toISOString();
      const expiresAt = share.expiresAt.toISOString();
      const item: ShareItem = {
        id: share.id,
        sharerId: share.sharerId,
        keys: [...share.keys],
        channelId: share.channelId,
        mode: share.mode,
        createdAt,
        expiresAt,
        state: "pending",
        note: share.note,
        title: share.title,
        announcementText: share.announcementText,
        replaces: share.replaces,
        access: share.access ?? "link",
        notifyOpens: share.notifyOpens === true,
        expiryNotified: false,
        created: `${createdAt}#${share.id}`,
        kind: KIND,
        due: DUE,
        ttl: Math.ceil((share.expiresAt.getTime() + retentionMs) / 1000),
      };
      try {
        await send(() =>
          documents.send(
            new PutCommand({
              TableName: tableName,
              Item: item,
              ConditionExpression: "attribute_not_exists(#id)",
              ExpressionAttributeNames: { "#id": "id" },
            }),
          ),
        );
        return toRecord(item);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // The SDK retries a put whose answer was lost; the retry finds the first attempt's item.
        const stored = await get(share.id);
        if (stored && isSameShare(stored, share)) return stored;
        throw shareIdTaken(share.id);
      }
    },
    async posted(id, message) {
      const activated = await update(id, {
        // A failed share left the due index; an active one is back in it.
        change: "SET #state = :active, #message = :message, #due = :due",
        condition: "#state IN (:pending, :failed)",
        values: {
          ":active": "active",
          ":pending": "pending",
          ":failed": "failed",
          ":message": message,
          ":due": DUE,
        },
      });
      if (activated.changed || !activated.share) return activated;
      const kept = await update(id, {
        change: "SET #message = :message",
        condition: "#id = :id",
        values: { ":message": message, ":id": id },
      });
      return { changed: false, share: kept.share };
    },
    async failed(id, reason) {
      return update(id, {
        change: "SET #state = :failed, #failure = :reason REMOVE #due",
        condition: "#state = :pending",
        values: { ":failed": "failed", ":pending": "pending", ":reason": reason },
      });
    },
    get,
    async revoke(id, by, at) {
      const revocable = stateCondition(REVOCABLE_STATES);
      return update(id, {
        change: "SET #state = :revoked, #revokedBy = :by, #revokedAt = :at REMOVE #due",
        condition: revocable.expression,
        values: { ":revoked": "revoked", ":by": by, ":at": at.toISOString(), ...revocable.values },
      });
    },
    async markExpired(id) {
      return update(id, {
        change: "SET #state = :expired REMOVE #due",
        condition: live.expression,
        values: { ":expired": "expired", ...live.values },
      });
    },
    async markReplaced(id, newId) {
      const replaceable = stateCondition(REPLACEABLE_STATES);
      return update(id, {
        change: "SET #replacedBy = :newId",
        condition: `${replaceable.expression} AND (attribute_not_exists(#replacedBy) OR #replacedBy = :newId)`,
        values: { ":newId": newId, ...replaceable.values },
      });
    },
    async unmarkReplaced(id, newId) {
      return update(id, {
        change: "REMOVE #replacedBy",
        condition: "#replacedBy = :newId",
        values: { ":newId": newId },
      });
    },
    async markExpiryNotified(id) {
      return update(id, {
        change: "SET #expiryNotified = :true",
        condition: "#state = :active AND #expiryNotified = :false",
        values: { ":active": "active", ":true": true, ":false": false },
      });
    },
    async list(q: ShareQuery = {}) {
      const limit = q.limit ?? DEFAULT_LIST_LIMIT;
      if (limit <= 0 || q.states?.length === 0) return [];
      if (q.since && q.until && q.since.getTime() >= q.until.getTime()) return [];
      const values: Record<string, unknown> = {};
      let key: string;
      if (q.sharerId !== undefined) {
        key = "#sharerId = :partition";
        values[":partition"] = q.sharerId;
      } else {
        key = "#kind = :partition";
        values[":partition"] = KIND;
      }
      // `created` is "<ISO time>#<id>": a share created at `until` sorts after the bare time, so
      // BETWEEN and < both leave it out, and one created at `since` sorts after it and stays in.
      if (q.since && q.until) {
        key += " AND #created BETWEEN :since AND :until";
        values[":since"] = q.since.toISOString();
        values[":until"] = q.until.toISOString();
      } else if (q.since) {
        key += " AND #created >= :since";
        values[":since"] = q.since.toISOString();
      } else if (q.until) {
        key += " AND #created < :until";
        values[":until"] = q.until.toISOString();
      }
      const states = q.states && stateCondition(q.states);
      return query(
        {
          IndexName: q.sharerId !== undefined ? BY_SHARER : BY_CREATED,
          KeyConditionExpression: key,
          FilterExpression: states?.expression,
          ExpressionAttributeNames: namesIn(key, states?.expression),
          ExpressionAttributeValues: { ...values, ...states?.values },
          ScanIndexForward: false,
        },
        limit,
      );
    },
    async dueForExpiry(before, limit = DEFAULT_LIST_LIMIT) {
      if (limit <= 0) return [];
      const key = "#due = :due AND #expiresAt <= :before";
      return query(
        {
          IndexName: BY_DUE,
          KeyConditionExpression: key,
          ExpressionAttributeNames: namesIn(key),
          ExpressionAttributeValues: { ":due": DUE, ":before": before.toISOString() },
          ScanIndexForward: true,
        },
        limit,
      );
    },
    async dueForReminder(before, limit = DEFAULT_LIST_LIMIT) {
      if (limit <= 0) return [];
      const key = "#due = :due AND #expiresAt <= :before";
      const filter =
        "#state = :active AND #mode = :announce AND #expiryNotified = :false AND attribute_not_exists(#replacedBy)";
      return query(
        {
          IndexName: BY_DUE,
          KeyConditionExpression: key,
          FilterExpression: filter,
          ExpressionAttributeNames: namesIn(key, filter),
          ExpressionAttributeValues: {
            ":due": DUE,
            ":before": before.toISOString(),
            ":active": "active",
            ":announce": "announce",
            ":false": false,
          },
          ScanIndexForward: true,
        },
        limit,
      );
    },
    async recordOpen(o: ShareOpen) {
      const share = await shareItem(o.shareId);
      if (!share) throw unknownShare();
      const item: OpenItem = {
        id: `open#${o.shareId}#${randomUUID()}`,
        shareId: o.shareId,
        fileIndex: o.fileIndex,
        key: o.key,
        userId: o.userId,
        at: o.at.toISOString(),
        userAgent: o.userAgent,
        ttl: share.ttl,
      };
      await send(() => documents.send(new PutCommand({ TableName: tableName, Item: item })));
      await send(() =>
        documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id: o.shareId },
            UpdateExpression: "SET #openIds = list_append(if_not_exists(#openIds, :empty), :id)",
            ExpressionAttributeNames: { "#openIds": "openIds" },
            ExpressionAttributeValues: { ":empty": [], ":id": [item.id] },
          }),
        ),
      );
    },
    async listOpens(shareId) {
      const share = await shareItem(shareId);
      return (await openItems(share?.openIds ?? [])).sort(byTime);
    },
    async claimOpensToNotify(shareId, upTo) {
      // Optimistic: read where the telling stands, then move it on only if no one else did meanwhile.
      for (;;) {
        const share = await shareItem(shareId);
        if (!share) return [];
        const told = share.opensTold ?? 0;
        const waiting = await openItems((share.openIds ?? []).slice(told));
        let count = 0;
        while (count < waiting.length && (waiting[count] as ShareOpen).at.getTime() <= upTo.getTime())
          count += 1;
        if (count === 0) return [];
        try {
          await documents.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { id: shareId },
              UpdateExpression: "SET #opensTold = :next",
              ConditionExpression:
                told === 0 ? "attribute_not_exists(#opensTold) OR #opensTold = :told" : "#opensTold = :told",
              ExpressionAttributeNames: { "#opensTold": "opensTold" },
              ExpressionAttributeValues: { ":next": told + count, ":told": told },
            }),
          );
          return waiting.slice(0, count).sort(byTime);
        } catch (error) {
          if (!isConditionFailure(error)) throw unavailable(error);
        }
      }
    },
    async close() {},
  };
}

/**
 * Creates the ledger's table, on demand billing, with its indexes and TTL on `ttl`, and waits until it
 * is active; does nothing to a table that already exists. Operators can run it once (it needs
 * dynamodb:CreateTable, DescribeTable and UpdateTimeToLive), or create the same table with their own
 * tooling: partition key `id` (S); indexes `bySharer` (sharerId S, created S), `byCreated` (kind S,
 * created S) and `byDue` (due S, expiresAt S), each projecting ALL; TTL attribute `ttl`.
 * `timeToLive: false` skips the TTL setting (DynamoDB emulators that lack UpdateTimeToLive).
 */
export async function createLedgerTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeToLive?: boolean; maxWaitSeconds?: number } = {},
): Promise<void> {
  const index = (name: string, partition: string, sort: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: partition, KeyType: "HASH" as const },
      { AttributeName: sort, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: ["id", "sharerId", "created", "kind", "due", "expiresAt"].map((name) => ({
          AttributeName: name,
          AttributeType: "S" as const,
        })),
        GlobalSecondaryIndexes: [
          index(BY_SHARER, "sharerId", "created"),
          index(BY_CREATED, "kind", "created"),
          index(BY_DUE, "due", "expiresAt"),
        ],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== "ResourceInUseException") throw error;
  }
  await waitUntilTableExists(
    { client, maxWaitTime: options.maxWaitSeconds ?? 300, minDelay: 1, maxDelay: 10 },
    { TableName: tableName },
  );
  if (options.timeToLive ?? true) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
        }),
      );
    } catch (error) {
      // Asked again on a table that already has it: DynamoDB answers that TTL is already enabled.
      if (!/already enabled/i.test((error as Error).message)) throw error;
    }
  }
}
