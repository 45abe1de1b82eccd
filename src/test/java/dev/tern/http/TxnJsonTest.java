package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import dev.tern.kv.TxnCompare;
import dev.tern.kv.TxnOp;
import dev.tern.kv.TxnOpResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.junit.jupiter.api.Test;

/** The transaction body, field by field: what is accepted, and the 400 message (naming the field) for what is not. */
class TxnJsonTest {
  private static final KvLimits LIMITS =
      new KvLimits(8, 16, 10, Duration.ofSeconds(5), 10, 128, new TxnLimits(2, 3, 4096));

  private static TxnJson.Parsed parse(String json) {
    return TxnJson.parse(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8), LIMITS);
  }

  private static void assertError(String json, String error) {
    TxnJson.Parsed p = parse(json);
    assertNull(p.request(), json);
    assertEquals(error, p.error(), json);
  }

  @Test
  void aFullTransactionParses() {
    TxnJson.Parsed p = parse("{'compare':[{'key':'a','target':'value','result':'=','value':'x'},"
        + "{'key':'b','target':'revision','result':'<','revision':7}],"
        + "'success':[{'put':{'key':'a','value':'y'}},{'delete':{'key':'b'}},{'get':{'key':'c'}}],"
        + "'failure':[{'put':{'key':'d','valueBase64':'AP8='}}]}");
    assertNull(p.error());
    assertEquals(new TxnJson.Request(
        List.of(TxnCompare.value("a", TxnCompare.Relation.EQUAL, Bytes.utf8("x")),
            TxnCompare.revision("b", TxnCompare.Relation.LESS, 7)),
        List.of(new TxnOp.Put("a", "y"), new TxnOp.Delete("b"), new TxnOp.Get("c")),
        List.of(new TxnOp.Put("d", Bytes.copyOf(new byte[] {0, (byte) 0xff})))), p.request());
  }

  @Test
  void everyRelationAndTargetHasItsSpelling() {
    String[][] spellings = {{"=", "EQUAL"}, {"!=", "NOT_EQUAL"}, {"<", "LESS"}, {">", "GREATER"}};
    TxnCompare.Relation[] relations = TxnCompare.Relation.values();
    for (int i = 0; i < spellings.length; i++) {
      for (String s : spellings[i]) {
        TxnJson.Parsed p = parse("{'compare':[{'key':'a','target':'revision','result':'" + s + "','revision':0}]}");
        assertEquals(relations[i], p.request().compares().get(0).relation(), s);
      }
      assertEquals(spellings[i][0], relations[i].symbol);
    }
    assertEquals(List.of(TxnCompare.exists("a", TxnCompare.Relation.NOT_EQUAL, false)),
        parse("{'compare':[{'key':'a','target':'exists','result':'!=','exists':false}]}").request().compares());
  }

  @Test
  void everythingIsOptionalAndAnEmptyTransactionIsValid() {
    assertEquals(new TxnJson.Request(List.of(), List.of(), List.of()), parse("{}").request());
    assertEquals(new TxnJson.Request(List.of(), List.of(), List.of()),
        parse("{'compare':null,'success':[],'failure':null}").request());
  }

  @Test
  void badBodiesNameTheFieldAtFault() {
    assertError("", "body must be a JSON object with compare, success and failure");
    assertError("[]", "body must be a JSON object with compare, success and failure");
    assertError("{'compare':[],'extra':1}", "extra: unknown field");
    assertError("{'compare':{}}", "compare: must be an array");
    assertError("{'compare':[1]}", "compare[0]: must be an object");
    assertError("{'compare':[{'target':'value','result':'=','value':'x'}]}", "compare[0].key: missing, or not a string");
    assertError("{'compare':[{'key':'a','result':'=','value':'x'}]}", "compare[0].target: missing, or not a string");
    assertError("{'compare':[{'key':'a','target':'mod','result':'=','revision':1}]}",
        "compare[0].target: must be value, revision or exists");
    assertError("{'compare':[{'key':'a','target':'value','result':'~','value':'x'}]}",
        "compare[0].result: must be =, !=, < or >");
    assertError("{'compare':[{'key':'a','target':'value','value':'x'}]}", "compare[0].result: missing, or not a string");
    assertError("{'compare':[{'key':'a','target':'value','result':'='}]}",
        "compare[0]: needs value (text) or valueBase64, one of them");
    assertError("{'compare':[{'key':'a','target':'value','result':'=','value':'x','valueBase64':'eA=='}]}",
        "compare[0]: needs value (text) or valueBase64, one of them");
    assertError("{'compare':[{'key':'a','target':'value','result':'=','value':1}]}",
        "compare[0].value: must be a string (valueBase64 for bytes)");
    assertError("{'compare':[{'key':'a','target':'value','result':'=','valueBase64':1}]}",
        "compare[0].valueBase64: must be a base64 string");
    assertError("{'compare':[{'key':'a','target':'value','result':'=','value':'x','revision':1}]}",
        "compare[0].revision: unknown field");
    assertError("{'compare':[{'key':'a','target':'revision','result':'=','revision':-1}]}",
        "compare[0].revision: must be a non-negative integer (0: the key is absent)");
    assertError("{'compare':[{'key':'a','target':'revision','result':'=','revision':1.5}]}",
        "compare[0].revision: must be a non-negative integer (0: the key is absent)");
    assertError("{'compare':[{'key':'a','target':'revision','result':'=','revision':'1'}]}",
        "compare[0].revision: must be a non-negative integer (0: the key is absent)");
    assertError("{'compare':[{'key':'a','target':'revision','result':'=','revision':99999999999999999999}]}",
        "compare[0].revision: must be a non-negative integer (0: the key is absent)");
    assertError("{'compare':[{'key':'a','target':'revision','result':'='}]}",
        "compare[0].revision: must be a non-negative integer (0: the key is absent)");
    assertError("{'compare':[{'key':'a','target':'exists','result':'<','exists':true}]}",
        "compare[0].result: existence takes = or != only");
    assertError("{'compare':[{'key':'a','target':'exists','result':'>','exists':true}]}",
        "compare[0].result: existence takes = or != only");
    assertError("{'compare':[{'key':'a','target':'exists','result':'=','exists':'yes'}]}",
        "compare[0].exists: must be true or false");
    assertError("{'compare':[{'key':'a','target':'exists','result':'='}]}", "compare[0].exists: must be true or false");
    assertError("{'compare':[{'key':'a','target':'exists','result':'=','exists':true,'value':'x'}]}",
        "compare[0].value: unknown field");
    assertError("{'success':[{'put':{'key':'a','value':'x'}},{'put':{'key':'','value':'x'}}]}",
        "success[1].put.key: must not be empty");
    assertError("{'failure':[{'get':{'key':'123456789'}}]}",
        "failure[0].get.key: 9 bytes, more than the limit of 8 (tern.kv.max-key-bytes)");
    assertError("{'failure':[{'get':{'key':'a\\uFFFD'}}]}",
        "failure[0].get.key: is not valid text (U+FFFD or an unpaired surrogate)");
    assertError("{'failure':[{'get':{'key':'a\\uD800'}}]}",
        "failure[0].get.key: is not valid text (U+FFFD or an unpaired surrogate)");
    assertError("{'success':[{'put':{'key':'a','value':'\\uDC00'}}]}", "success[0].put.value: has an unpaired surrogate");
    assertError("{'success':[{'put':{'key':'a','value':'12345678901234567'}}]}",
        "success[0].put: value of 17 bytes, more than the limit of 16 (tern.kv.max-value-bytes)");
    assertError("{'success':[{'put':{'key':'a','valueBase64':'!!'}}]}",
        "success[0].put.valueBase64: not valid base64 (Illegal base64 character 21)");
    assertError("{'success':[{'put':{'key':'a'}}]}", "success[0].put: needs value (text) or valueBase64, one of them");
    assertError("{'success':[{'delete':{'key':'a','value':'x'}}]}", "success[0].delete.value: unknown field");
    assertError("{'success':[{'get':{'key':'a','x':1}}]}", "success[0].get.x: unknown field");
    assertError("{'success':[{'range':{'key':'a'}}]}", "success[0]: unknown operation 'range' (put, delete or get)");
    assertError("{'success':[{'put':{'key':'a','value':'x'},'get':{'key':'a'}}]}",
        "success[0]: must be an object with one field: put, delete or get");
    assertError("{'success':[{}]}", "success[0]: must be an object with one field: put, delete or get");
    assertError("{'success':['put']}", "success[0]: must be an object with one field: put, delete or get");
    assertError("{'success':[{'put':'a'}]}", "success[0].put: must be an object");
  }

  @Test
  void theLimitsAreExact() {
    String compare = "{'key':'a','target':'exists','result':'=','exists':true}";
    assertNull(parse("{'compare':[" + compare + "," + compare + "]}").error());
    assertError("{'compare':[" + compare + "," + compare + "," + compare + "]}",
        "compare: 3 entries, more than the limit of 2 (tern.txn.max-compares)");
    String get = "{'get':{'key':'a'}}";
    assertNull(parse("{'success':[" + get + "," + get + "," + get + "]}").error());
    assertError("{'failure':[" + get + "," + get + "," + get + "," + get + "]}",
        "failure: 4 entries, more than the limit of 3 (tern.txn.max-operations)");
    assertNull(parse("{'success':[{'put':{'key':'12345678','value':'1234567890123456'}}]}").error(), "at the limits");
  }

  @Test
  void malformedJsonAndDuplicateFieldsAre400() {
    assertEquals(true, parse("{'success':[").error().startsWith("body is not valid JSON: "));
    assertEquals(true, parse("{'success':[],'success':[]}").error().startsWith("body is not valid JSON: Duplicate field"));
    TxnJson.Parsed notUtf8 = TxnJson.parse(new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'}, LIMITS);
    assertEquals(true, notUtf8.error().startsWith("body is not valid JSON: "), notUtf8.error());
  }

  @Test
  void theAnswerNamesTheBranchTheRevisionAndEachResult() throws Exception {
    KvResult.TxnDone done = new KvResult.TxnDone(true, 12, List.of(
        new TxnOpResult.Put("a", 12), new TxnOpResult.Delete("b", true), new TxnOpResult.Delete("c", false),
        new TxnOpResult.Get("d", Bytes.utf8("text"), 4), new TxnOpResult.Get("e", Bytes.copyOf(new byte[] {(byte) 0xff}), 5),
        new TxnOpResult.Get("f", null, 0), new TxnOpResult.Get("g", null, 6)));
    HttpEntity.Strict entity = (HttpEntity.Strict) TxnJson.ok(done).entity();
    assertEquals(String.join("",
        "{\"succeeded\":true,\"revision\":12,\"results\":[",
        "{\"put\":{\"key\":\"a\",\"revision\":12}},",
        "{\"delete\":{\"key\":\"b\",\"deleted\":true,\"revision\":12}},",
        "{\"delete\":{\"key\":\"c\",\"deleted\":false}},",
        "{\"get\":{\"key\":\"d\",\"found\":true,\"value\":\"text\",\"revision\":4}},",
        "{\"get\":{\"key\":\"e\",\"found\":true,\"valueBase64\":\"/w==\",\"revision\":5}},",
        "{\"get\":{\"key\":\"f\",\"found\":false}},",
        "{\"get\":{\"key\":\"g\",\"found\":true,\"revision\":6}}]}"),
        entity.getData().utf8String());
    assertEquals(200, TxnJson.ok(new KvResult.TxnDone(false, 3, List.of())).status().intValue());
  }
}
